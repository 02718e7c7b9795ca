import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { applyFilters, expandMatrix, filterKeys, parseFilters } from "../../src/config/expand.js";
import { parseMatrixText } from "../../src/config/load.js";
import { KNOWN_NAMES } from "../../src/run/registry.js";
import { lateLastInTheirGroup } from "../support/compiled-last-sequencer.js";
import { declaredWarmEntries, declaresCompiledEngine } from "../support/warm-declarations.js";
import { compilesEngine, entriesEveryFileWaitsFor, WARM_ENTRIES, warmUpOrder } from "../support/warm-entries.js";
import { readiness } from "../support/warm-up-state.js";

const ROOT = new URL("../../", import.meta.url).pathname;
const read = (path: string) => readFileSync(join(ROOT, path), "utf8");
const INTEGRATION_FILES = readdirSync(join(ROOT, "test/integration"))
  .filter((name) => name.endsWith(".test.ts"))
  .map((name) => `test/integration/${name}`);

const COMPILED = WARM_ENTRIES.filter(compilesEngine);
const COMPILED_ENGINES = [...new Set(COMPILED.map((entry) => entry.engine))];
const enginesNamedIn = (text: string) => COMPILED_ENGINES.filter((engine) => text.includes(engine));

/** A fixture's text, and the text of the matrix an expectations file names (its `matrix:`), if any. */
function fixtureText(path: string): string {
  if (!existsSync(join(ROOT, path))) return "";
  const text = read(path);
  // (a fixture may be malformed on purpose: read the one line rather than parse it)
  const matrix = /^matrix:\s*([^\s#[{]+)\s*$/m.exec(text)?.[1];
  return matrix ? `${text}\n${read(join(dirname(path), matrix))}` : text;
}

const DEFAULT_MATRIX = parseMatrixText(read("matrix.yaml"), join(ROOT, "matrix.yaml"), KNOWN_NAMES);

/**
 * The engines of the default matrix's cells under the filters the source names (`key=value`
 * strings, `"--engine", "<name>"`), all of them taken together.
 */
function defaultMatrixEngines(source: string): string[] {
  const keys = filterKeys.join("|");
  const filters = [
    ...[...source.matchAll(new RegExp(`"((?:${keys})=[^"]+)"`, "g"))].map((match) => match[1] ?? ""),
    ...[...source.matchAll(/"--engine",\s*"([^"]+)"/g)].map((match) => `engine=${match[1] ?? ""}`),
  ];
  const cells = applyFilters(expandMatrix(DEFAULT_MATRIX), parseFilters(filters));
  return [...new Set(cells.map((cell) => cell.engine.name))];
}

/**
 * What a test file's text says it runs on a compiled engine: the compiled entries whose matrix it
 * names, and the compiled engines it names itself, in the fixtures it names (following an
 * expectations file to its matrix), or in the default matrix's cells when it uses that one by its
 * own name (`"matrix.yaml"`, not a file joined into a directory), narrowed by the filters it names.
 */
function compiledNeeds(source: string): { entries: string[]; engines: string[] } {
  const entries = COMPILED.map((entry) => entry.matrix).filter((matrix) => source.includes(matrix));
  const fixtures = [...new Set(source.match(/test\/fixtures\/[\w./-]+\.yaml/g) ?? [])];
  const usesDefaultMatrix = /(?<!join\([^)]*)"matrix\.yaml"/.test(source);
  const engines = new Set([
    ...enginesNamedIn(source),
    ...fixtures.flatMap((fixture) => enginesNamedIn(fixtureText(fixture))),
    ...(usesDefaultMatrix ? defaultMatrixEngines(source).filter((engine) => COMPILED_ENGINES.includes(engine)) : []),
  ]);
  return { entries, engines: [...engines].sort() };
}

/** What is wrong with a test file's declarations: needed compiled entries or engines it does not declare, and declared entries that do not exist. */
function declarationProblems(source: string): string[] {
  const declared = declaredWarmEntries(source);
  const declaredEngines = new Set(
    WARM_ENTRIES.filter((entry) => declared.includes(entry.matrix)).map((entry) => entry.engine),
  );
  const needs = compiledNeeds(source);
  return [
    ...needs.entries.filter((matrix) => !declared.includes(matrix)).map((matrix) => `runs ${matrix} undeclared`),
    ...needs.engines
      .filter((engine) => !declaredEngines.has(engine))
      .map((engine) => `runs ${engine} without declaring a warm-up entry that compiles it`),
    ...declared
      .filter((matrix) => !WARM_ENTRIES.some((entry) => entry.matrix === matrix))
      .map((matrix) => `declares ${matrix}, which is no warm-up entry`),
  ];
}

describe("integration files declare the compiled engines they run (test/support/warmed.ts)", () => {
  it.each(INTEGRATION_FILES)("%s", (file) => {
    expect(declarationProblems(read(file))).toEqual([]);
  });

  it("the check sees what the files run: the five that need a compiled engine are found needing it", () => {
    const needs = Object.fromEntries(INTEGRATION_FILES.map((file) => [file, compiledNeeds(read(file)).engines]));
    expect(needs).toMatchObject({
      "test/integration/docker29.test.ts": ["docker-29.7.2"],
      "test/integration/nft-self-repair.test.ts": ["docker-29.7.2"],
      "test/integration/secure-exec.test.ts": ["docker-29.7.2"],
      "test/integration/engine-28-0-1.test.ts": ["docker-28.0.1"],
      // the default matrix filtered to iptables=1.8.10: its 28.0.1 cells
      "test/integration/iptables-git.test.ts": ["docker-28.0.1"],
      // the default matrix, narrowed to Debian's 28.5.2
      "test/integration/package.test.ts": [],
      "test/integration/dind-lane.test.ts": [],
    });
  });

  it("fails a file that runs a compiled entry's matrix undeclared, or declares an entry that does not exist", () => {
    const runs = 'await runMatrixForTest("test/fixtures/matrices/docker29.yaml", {});';
    expect(declarationProblems(runs)).toEqual([
      "runs test/fixtures/matrices/docker29.yaml undeclared",
      "runs docker-29.7.2 without declaring a warm-up entry that compiles it",
    ]);
    expect(declarationProblems(`await warmedImages("test/fixtures/matrices/docker29.yaml");\n${runs}`)).toEqual([]);
    expect(declarationProblems('await warmedImages("test/fixtures/matrices/docker30.yaml");')).toEqual([
      "declares test/fixtures/matrices/docker30.yaml, which is no warm-up entry",
    ]);
  });

  it("fails a file whose own matrix, or the default one, names a compiled engine it does not declare", () => {
    expect(declarationProblems('const cell = "curl-timeout__dind__docker-28.0.1__1.8.11-nft";')).toEqual([
      "runs docker-28.0.1 without declaring a warm-up entry that compiles it",
    ]);
    expect(declarationProblems('await loadMatrixFile("matrix.yaml", KNOWN_NAMES);')).toEqual(
      [...COMPILED_ENGINES].sort().map((engine) => `runs ${engine} without declaring a warm-up entry that compiles it`),
    );
    const narrowed = 'await loadMatrixFile("matrix.yaml", KNOWN_NAMES); run(["--filter", "iptables=1.8.10"]);';
    expect(declarationProblems(narrowed)).toEqual([
      "runs docker-28.0.1 without declaring a warm-up entry that compiles it",
    ]);
    expect(declarationProblems(`${narrowed} run(["--filter", "engine=docker-28.5.2"]);`)).toEqual([]);
  });
});

describe("the warm-up order and the files' order", () => {
  it("every file waits for the entries without a compiled engine; the warm-up builds those first", () => {
    const quick = entriesEveryFileWaitsFor();
    expect(quick.length).toBeGreaterThan(0);
    expect(COMPILED.length).toBeGreaterThan(0);
    const order = warmUpOrder().map((entry) => entry.matrix);
    expect(order.slice(0, quick.length)).toEqual(quick);
    expect(order.slice(quick.length)).toEqual(COMPILED.map((entry) => entry.matrix));
  });

  it("a file declaring a compiled engine's entry runs after the others of its project, each group in its own order", () => {
    const files = [
      { project: "unit", name: "a" },
      { project: "integration", name: "docker29", late: true },
      { project: "integration", name: "dind-lane" },
      { project: "integration", name: "engine-28-0-1", late: true },
      { project: "integration", name: "verdicts" },
    ];
    const ordered = lateLastInTheirGroup(
      files,
      (file) => file.project,
      (file) => file.late === true,
    );
    expect(ordered.map((file) => file.name)).toEqual(["a", "dind-lane", "verdicts", "docker29", "engine-28-0-1"]);
  });

  it("the sequencer's test: a compiled entry declared, not a quick one or none", () => {
    expect(declaresCompiledEngine('await warmedImages("test/fixtures/matrices/docker28-0-1.yaml");')).toBe(true);
    expect(declaresCompiledEngine('await warmedImages("test/fixtures/matrices/integration.yaml");')).toBe(false);
    expect(declaresCompiledEngine("await runMatrixForTest(...);")).toBe(false);
    expect(declaresCompiledEngine(read("test/integration/docker29.test.ts"))).toBe(true);
  });
});

describe("an integration file's wait", () => {
  const entries = ["a.yaml", "b.yaml"];
  it("goes on while an entry is pending or not yet written, ends when all are ready", () => {
    expect(readiness(undefined, entries)).toEqual({ ready: false, waiting: entries, failed: [] });
    expect(readiness({ "a.yaml": { status: "ready" }, "b.yaml": { status: "pending" } }, entries)).toEqual({
      ready: false,
      waiting: ["b.yaml"],
      failed: [],
    });
    expect(readiness({ "a.yaml": { status: "ready" }, "b.yaml": { status: "ready" } }, entries)).toEqual({
      ready: true,
    });
  });

  it("names a failed entry with the warm-up's reason, whatever else is pending", () => {
    const state = {
      "a.yaml": { status: "failed", error: "moby-v28.0.1.tar.xz is not in /src" },
      "b.yaml": { status: "pending" },
    } as const;
    expect(readiness(state, entries)).toEqual({
      ready: false,
      waiting: ["b.yaml"],
      failed: ["a.yaml: moby-v28.0.1.tar.xz is not in /src"],
    });
  });
});
