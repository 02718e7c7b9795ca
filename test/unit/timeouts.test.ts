import { describe, expect, it } from "vitest";
import { TIMEOUT_MS } from "../../src/contract/timeouts.js";
import { codeLines, sourceFiles } from "../support/source-lines.js";

/** A millisecond-sized number: 5000, 60_000, 1_200_000. */
const NUMBER = /(?<![\w.])\d{1,3}(?:_?\d{3})+(?![\w.])/;
/** Where a number is a bound on time: a timeout or deadline, or the last argument of a call into a host or a tool. */
const TIME_BOUND =
  /timeout|deadline|\b(sh|mustStep|engineStep|runStep|runSteps|readHost|readOne|virsh|git|download|execIn|execa)\(/i;
/** Unit conversions are not timeouts: `/ 1000`, `* 1000`, `/ 60_000`. */
const CONVERSION = /[/*]\s*(1000|60_000)\b/g;
/** The table itself, and the matrix schema whose user settings carry their own bounds and defaults. */
const EXEMPT = new Set(["src/contract/timeouts.ts", "src/config/schema.ts"]);

const spellsTimeout = (text: string) => TIME_BOUND.test(text) && NUMBER.test(text.replace(CONVERSION, ""));

const timeoutLiterals = (files: readonly string[]) =>
  files
    .flatMap(codeLines)
    .filter(({ text }) => spellsTimeout(text))
    .map(({ file, line, text }) => `${file}:${line}: ${text.trim()}`);

describe("timeouts", () => {
  it("are numbers only in the one table: no numeric timeout in providers, scenarios, fixes, readers or scripts", () => {
    const files = sourceFiles("src", "scenarios", "scripts").filter((f) => !EXEMPT.has(f));
    expect(files.length).toBeGreaterThan(50);
    expect(timeoutLiterals(files)).toEqual([]);
  });

  it("the check recognises the literals it guards against", () => {
    const literals = [
      'mustStep(ctx.host, ctx.steps, "start", "x", 60_000);',
      "{ reject: false, timeout: 5000 }",
      "const deadline = Date.now() + 60_000;",
    ];
    expect(literals.filter(spellsTimeout)).toEqual(literals);
    const fine = ["within ${timeoutMs / 1000}s", "{ timeout: TIMEOUT_MS.git }", "timeoutMs + TIMEOUT_MS.vmShSlack"];
    expect(fine.filter(spellsTimeout)).toEqual([]);
  });

  it("every kind has a positive bound", () => {
    expect(Object.values(TIMEOUT_MS).filter((ms) => !(ms > 0))).toEqual([]);
    expect(Object.keys(TIMEOUT_MS).length).toBeGreaterThan(10);
  });
});
