import { describe, expect, it } from "vitest";
import { UserError } from "../../src/errors.js";
import { runCommandLine, type CommandActions } from "../../src/cli/program.js";

type Call = { command: keyof CommandActions; options?: unknown };

/** Parses argv with actions that only record what they were given; nothing runs. */
async function parse(argv: string[], exitCode = 0): Promise<{ code: number; calls: Call[]; help: string }> {
  const calls: Call[] = [];
  const record =
    (command: keyof CommandActions) =>
    async (options?: unknown): Promise<number> => {
      calls.push({ command, options });
      return exitCode;
    };
  const actions: CommandActions = {
    run: record("run"),
    report: record("report"),
    summary: record("summary"),
    init: record("init"),
    gate: record("gate"),
    compare: record("compare"),
    plan: record("plan"),
    bisect: record("bisect"),
    clean: record("clean"),
    schema: record("schema"),
  };
  let help = "";
  const code = await runCommandLine(argv, actions, { writeOut: (text) => void (help += text) });
  return { code, calls, help };
}

/** The one-line message bad input gives (the CLI prints it as `fwcompat: <message>`, exit 2). */
async function refusal(argv: string[]): Promise<string> {
  const error: unknown = await parse(argv).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof UserError)) throw new Error(`${argv.join(" ")}: expected a UserError, got ${String(error)}`);
  expect(error.message).not.toContain("\n");
  return error.message;
}

const RUN_DEFAULTS = {
  matrix: undefined,
  filters: [],
  concurrency: undefined,
  out: undefined,
  repeat: 1,
  seed: undefined,
  resume: undefined,
  baselineOnly: false,
};

describe("the command line", () => {
  it("runs `run` when no command is given, with run's defaults", async () => {
    expect((await parse([])).calls).toEqual([{ command: "run", options: RUN_DEFAULTS }]);
    expect((await parse(["--baseline-only"])).calls).toEqual([
      { command: "run", options: { ...RUN_DEFAULTS, baselineOnly: true } },
    ]);
  });

  it("gives run every option it owns, repeated filters in order", async () => {
    const { calls } = await parse([
      "run",
      "--matrix",
      "m.yaml",
      "--filter",
      "scenario=a",
      "--filter",
      "engine=b",
      "--concurrency",
      "auto",
      "--out",
      "o",
      "--repeat",
      "3",
      "--seed",
      "s-1",
      "--baseline-only",
    ]);
    expect(calls).toEqual([
      {
        command: "run",
        options: {
          matrix: "m.yaml",
          filters: ["scenario=a", "engine=b"],
          concurrency: "auto",
          out: "o",
          repeat: 3,
          seed: "s-1",
          resume: undefined,
          baselineOnly: true,
        },
      },
    ]);
  });

  it("--resume DIR becomes the output directory", async () => {
    expect((await parse(["run", "--resume", "r"])).calls[0]?.options).toMatchObject({ resume: "r", out: "r" });
    expect(await refusal(["run", "--resume", "r", "--out", "o"])).toBe(
      "--resume DIR already names the output directory; drop --out",
    );
  });

  it("accepts --debug before or after the command", async () => {
    expect((await parse(["--debug", "plan"])).calls.map((c) => c.command)).toEqual(["plan"]);
    expect((await parse(["plan", "--debug"])).calls.map((c) => c.command)).toEqual(["plan"]);
    expect((await parse(["--debug"])).calls.map((c) => c.command)).toEqual(["run"]);
  });

  it("resolves to the exit status the command returned", async () => {
    expect((await parse(["compare", "a", "b", "--fail-on-change"], 1)).code).toBe(1);
    expect((await parse(["clean"], 0)).code).toBe(0);
  });

  it("gate: the run options, the expectations and the candidates", async () => {
    const { calls } = await parse([
      "gate",
      "--expect",
      "e.yaml",
      "--candidate",
      "iptables=1.8.11-2",
      "--candidate",
      "engine=x",
      "--baseline-only",
      "--out",
      "o",
    ]);
    expect(calls).toEqual([
      {
        command: "gate",
        options: {
          ...RUN_DEFAULTS,
          baselineOnly: true,
          out: "o",
          expect: "e.yaml",
          results: undefined,
          candidates: ["iptables=1.8.11-2", "engine=x"],
        },
      },
    ]);
    expect((await parse(["gate", "--expect", "e.yaml", "--results", "r"])).calls[0]?.options).toMatchObject({
      results: "r",
      candidates: [],
    });
  });

  it("summary and init", async () => {
    expect((await parse(["summary", "a", "b"])).calls).toEqual([
      { command: "summary", options: { paths: ["a", "b"] } },
    ]);
    expect((await parse(["init"])).calls).toEqual([
      { command: "init", options: { dir: undefined, action: undefined } },
    ]);
    expect((await parse(["init", "repo", "--action", "me/fwcompat@v1"])).calls).toEqual([
      { command: "init", options: { dir: "repo", action: "me/fwcompat@v1" } },
    ]);
    expect(await refusal(["init", "a", "b"])).toMatch(/^Too many arguments for 'init'/);
  });

  it("report, compare and plan", async () => {
    expect((await parse(["report", "a", "b", "--update-goldens"])).calls).toEqual([
      { command: "report", options: { paths: ["a", "b"], out: "report", updateGoldens: true, goldens: undefined } },
    ]);
    // compare counts its directories itself, so a third reaches it
    expect((await parse(["compare", "a", "b", "c"])).calls).toEqual([
      { command: "compare", options: { paths: ["a", "b", "c"], failOnChange: false } },
    ]);
    expect((await parse(["plan"])).calls).toEqual([
      { command: "plan", options: { matrix: undefined, filters: [], format: "text" } },
    ]);
    expect((await parse(["plan", "--format", "gha", "--filter", "cell=x"])).calls[0]?.options).toEqual({
      matrix: undefined,
      filters: ["cell=x"],
      format: "gha",
    });
  });

  it("bisect: its own options, probe and nft by default, --good and --bad required", async () => {
    const { calls } = await parse([
      "bisect",
      "--good",
      "v1.8.10",
      "--bad",
      "v1.8.11",
      "--by",
      "traffic",
      "--scenario",
      "curl-timeout",
      "--engine",
      "e",
    ]);
    expect(calls).toEqual([
      {
        command: "bisect",
        options: {
          good: "v1.8.10",
          bad: "v1.8.11",
          by: "traffic",
          backend: "nft",
          scenario: "curl-timeout",
          engine: "e",
        },
      },
    ]);
    expect((await parse(["bisect", "--good", "a", "--bad", "b"])).calls[0]?.options).toMatchObject({
      by: "probe",
      backend: "nft",
    });
    expect(await refusal(["bisect", "--good", "a"])).toBe(
      "bisect needs --good REF and --bad REF; fwcompat bisect --help lists its options",
    );
    expect(await refusal(["bisect", "--good", "a", "--bad", "b", "--backend", "xtables"])).toBe(
      "--backend 'xtables': use nft or legacy",
    );
  });

  it("refuses a flag given to a command that does not own it, in one line naming the command", async () => {
    expect(await refusal(["plan", "--out", "x"])).toBe(
      "Unknown option '--out' for fwcompat plan; fwcompat plan --help lists its options",
    );
    expect(await refusal(["run", "--format", "gha"])).toBe(
      "Unknown option '--format' for fwcompat run; fwcompat run --help lists its options",
    );
    expect(await refusal(["report", "r", "--matrix", "m.yaml"])).toMatch(
      /^Unknown option '--matrix' for fwcompat report; /,
    );
    expect(await refusal(["bisect", "--good", "a", "--bad", "b", "--filter", "x=y"])).toMatch(
      /^Unknown option '--filter' for fwcompat bisect; /,
    );
    expect(await refusal(["--colour"])).toMatch(/^Unknown option '--colour' for fwcompat run; /);
  });

  it("refuses bad values, missing values, extra arguments and unknown commands in one line", async () => {
    expect(await refusal(["run", "--concurrency", "many"])).toBe(
      "--concurrency 'many': use a whole number from 1 to 16 or 'auto'",
    );
    expect(await refusal(["gate", "--repeat", "0"])).toBe("--repeat '0': use a whole number from 1 to 20");
    expect(await refusal(["plan", "--format", "xml"])).toBe("--format 'xml': use gha, json or text");
    expect(await refusal(["run", "--matrix"])).toBe(
      "Option '--matrix <FILE>' argument missing; fwcompat run --help lists its options",
    );
    expect(await refusal(["run", "--filte", "x=y"])).toMatch(
      /^Unknown option '--filte' for fwcompat run \(Did you mean --filter\?\); /,
    );
    expect(await refusal(["schema", "extra"])).toMatch(
      /^Too many arguments for 'schema'\. .*; fwcompat schema --help lists its options$/,
    );
    expect(await refusal(["frobnicate"])).toBe("unknown command 'frobnicate'; fwcompat --help lists the commands");
  });

  it("schema prints the matrix file's schema, with --catalogue the catalogue's", async () => {
    expect((await parse(["schema"])).calls).toEqual([{ command: "schema", options: { catalogue: false } }]);
    expect((await parse(["schema", "--catalogue"])).calls).toEqual([
      { command: "schema", options: { catalogue: true } },
    ]);
  });

  it("--help prints the commands, each command's --help its own options; nothing runs", async () => {
    const top = await parse(["--help"]);
    expect(top).toMatchObject({ code: 0, calls: [] });
    expect(top.help).toMatch(/^usage: fwcompat run /);
    for (const name of ["run", "report", "gate", "compare", "plan", "bisect", "clean", "schema"])
      expect(top.help).toMatch(new RegExp(`^  ${name} +\\S`, "m"));

    const bisect = await parse(["bisect", "--help"]);
    expect(bisect).toMatchObject({ code: 0, calls: [] });
    expect(bisect.help).toMatch(/^usage: fwcompat bisect --good REF --bad REF/);
    for (const flag of [
      "--good <REF>",
      "--bad <REF>",
      "--by <probe|traffic>",
      "--repository <REPO>",
      "--backend <nft|legacy>",
      "--topology <T>",
      "--debug",
    ])
      expect(bisect.help).toContain(flag);
    expect(bisect.help).not.toContain("--filter");

    const plan = await parse(["plan", "--help"]);
    expect(plan.help).toContain("--format <gha|json|text>");
    expect(plan.help).not.toContain("--resume");
    expect((await parse(["run", "-h"])).help).toContain("--resume <DIR>");
  });
});
