import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { renderMatrixReference, withGeneratedSection, type JsonSchema } from "../../scripts/docs/matrix-reference.js";
import { filterKeys } from "../../src/config/expand.js";
import { BENCH_RECORD_SCHEMA, benchSectionOf, renderRecord, withBenchSection } from "../../scripts/bench/record.js";
import { KNOWN_NAMES } from "../../src/run/registry.js";
import {
  anchorsOf,
  bothWays,
  brokenLinks,
  catalogueScenarios,
  cliOptions,
  figureProblems,
  figureQuotes,
  filterKeysUsed,
  flagsIn,
  namesAfterMarker,
  read,
  ROOT,
  settingsMentioned,
  tableAfterMarker,
  tableRows,
  unmarkedDurations,
  userDocs,
} from "../support/docs-checks.js";

const docs = userDocs();
const all = () => [...docs.values()].join("\n");
const schema = JSON.parse(read("matrix.schema.json")) as JsonSchema;
const settingsInSchema = new Set(Object.keys(schema.properties?.settings?.properties ?? {}));

describe("figures: stated once, in docs/performance.md, and quoted with the same value", () => {
  it("every figure id has one value wherever it is quoted", () => {
    const quotes = figureQuotes(docs);
    expect(
      quotes.filter((q) => q.where !== "docs/performance.md").length,
      "the README and pages quote figures by id",
    ).toBeGreaterThan(3);
    expect(figureProblems(docs)).toEqual([]);
  });

  it("the README and the matrix files state no duration without a figure id", () => {
    expect(unmarkedDurations(read("README.md"), "markdown")).toEqual([]);
    for (const file of ["matrix.yaml", "matrix.vm-wide.yaml", "matrix.scenarios-wide.yaml"])
      expect(unmarkedDurations(read(file), "yaml"), file).toEqual([]);
  });

  it("fails on a figure quoted with another value, on an undefined id, and on an unmarked duration", () => {
    const log = "<!-- fig:wall -->327.5 s at auto";
    expect(
      figureProblems(
        new Map([
          ["docs/performance.md", log],
          ["README.md", "takes <!-- fig:wall -->488 s"],
        ]),
      ),
    ).toEqual(["fig:wall has 2 values: 327.5 s (docs/performance.md), 488 s (README.md)"]);
    expect(
      figureProblems(
        new Map([
          ["docs/performance.md", log],
          ["README.md", "<!-- fig:other -->3 s"],
        ]),
      ),
    ).toEqual(["fig:other is quoted in README.md but not defined in docs/performance.md"]);
    expect(figureProblems(new Map([["docs/performance.md", "<!-- fig:wall --> fast"]]))).toEqual([
      "docs/performance.md: 1 fig marker(s) not followed by a figure",
    ]);
    expect(unmarkedDurations("# x\nabout 8 minutes (488 s)\n```\nbuild 32.7s\n```\n", "markdown")).toEqual([
      "8 minutes in: about 8 minutes (488 s)",
      "488 s in: about 8 minutes (488 s)",
    ]);
    expect(unmarkedDurations("a: 1 # about 2.7 min each\n", "yaml")).toEqual(["2.7 min in: # about 2.7 min each"]);
  });
});

describe("the bench's figures: one file (docs/performance.json), its generated section, and quotes of it", () => {
  const recorded = BENCH_RECORD_SCHEMA.parse(JSON.parse(read("docs/performance.json")));

  it("docs/performance.md holds the section rendered from docs/performance.json, and the README quotes it", () => {
    expect(benchSectionOf(read("docs/performance.md"))).toBe(renderRecord(recorded));
    const quoted = figureQuotes(new Map([["README.md", read("README.md")]])).map((q) => q.id);
    expect(quoted).toContain("bench-matrix-units");
  });

  it("a README quoting another value than the recorded bench, or a section edited by hand, is caught", () => {
    const page = withBenchSection("# Performance log\n", renderRecord(recorded));
    const units = recorded.matrix?.units ?? 0;
    const stale = `takes <!-- fig:bench-matrix-units -->${(units + 50).toFixed(0)} units`;
    expect(
      figureProblems(
        new Map([
          ["docs/performance.md", page],
          ["README.md", stale],
        ]),
      ),
    ).toEqual([
      `fig:bench-matrix-units has 2 values: ${units.toFixed(0)} (docs/performance.md), ${(units + 50).toFixed(0)} (README.md)`,
    ]);
    const edited = page.replace(/fig:bench-healthy-ratio -->[\d.]+/, "fig:bench-healthy-ratio -->0.99");
    expect(benchSectionOf(edited)).not.toBe(renderRecord(recorded));
    expect(withBenchSection(edited, renderRecord(recorded))).toBe(page);
  });
});

describe("docs/cli.md documents exactly the CLI's options", () => {
  const defined = cliOptions();

  it("reads the options from the CLI's sources", () => {
    expect([...defined]).toEqual(
      expect.arrayContaining(["--filter", "--baseline-only", "--fail-on-change", "--good", "--by", "--help"]),
    );
  });

  it("every --flag in docs/cli.md is an option, and every option is in docs/cli.md", () => {
    expect(bothWays(flagsIn(read("docs/cli.md")), defined, "CLI option")).toEqual([]);
  });

  it("fails on an invented flag and on an undocumented one", () => {
    expect(bothWays(flagsIn("use --matrix FILE or --turbo"), new Set(["--matrix", "--out"]), "CLI option")).toEqual([
      "--turbo is documented but not a CLI option",
      "--out is a CLI option but not documented",
    ]);
  });
});

describe("filter keys and matrix settings: documented exactly as the schema has them", () => {
  it("docs/cli.md lists every filter key, and no other", () => {
    expect(bothWays(namesAfterMarker(read("docs/cli.md"), "filter-keys"), new Set(filterKeys), "filter key")).toEqual(
      [],
    );
  });

  it("every --filter key=value in the docs uses a real key", () => {
    const used = filterKeysUsed(all());
    expect(used.size).toBeGreaterThan(0);
    expect([...used].filter((k) => !(filterKeys as readonly string[]).includes(k))).toEqual([]);
  });

  it("docs/matrix.md's settings table names every setting of the schema, and no other", () => {
    expect(bothWays(tableAfterMarker(read("docs/matrix.md"), "settings"), settingsInSchema, "setting")).toEqual([]);
  });

  it("every settings.<name> in the README, the docs and matrix.yaml is a setting", () => {
    const mentioned = settingsMentioned(`${all()}\n${read("matrix.yaml")}`);
    expect(mentioned.size).toBeGreaterThan(0);
    expect([...mentioned].filter((s) => !settingsInSchema.has(s))).toEqual([]);
  });

  it("docs/matrix.md's generated reference is what npm run docs:matrix writes from matrix.schema.json", () => {
    const page = read("docs/matrix.md");
    expect(withGeneratedSection(page, renderMatrixReference(schema))).toBe(page);
  });

  it("fails on a missing filter key, an unknown setting and a stale reference", () => {
    expect(
      bothWays(
        namesAfterMarker("<!-- filter-keys -->`cell`, `engine`, `kernel`", "filter-keys"),
        new Set(["cell", "engine", "provider"]),
        "filter key",
      ),
    ).toEqual(["kernel is documented but not a filter key", "provider is a filter key but not documented"]);
    expect(
      bothWays(
        tableAfterMarker(
          "<!-- settings -->\n| setting | meaning |\n|---|---|\n| `turbo` | x |\n\n| `concurrency` | y |",
          "settings",
        ),
        new Set(["concurrency"]),
        "setting",
      ),
    ).toEqual(["turbo is documented but not a setting", "concurrency is a setting but not documented"]);
    const page = read("docs/matrix.md");
    const older = { ...schema, properties: { ...schema.properties, retired: { type: "string" } } };
    expect(withGeneratedSection(page, renderMatrixReference(older))).not.toBe(page);
  });
});

describe("docs/scenarios.md is the registry's catalogue", () => {
  const page = read("docs/scenarios.md");

  it("lists every registered scenario with its variants and default, and no other", () => {
    const documented = catalogueScenarios(page);
    const registered = new Map(
      [...KNOWN_NAMES.scenarios].map(([name, s]) => [
        name,
        { variants: [...s.variants], defaultVariant: s.defaultVariant },
      ]),
    );
    expect(registered.size).toBeGreaterThan(0);
    expect(documented).toEqual(registered);
  });

  it("lists every registered fix, and no other", () => {
    const documented = new Set(tableRows(page, "fix").keys());
    expect(documented.size).toBeGreaterThan(0);
    expect(bothWays(documented, KNOWN_NAMES.fixes, "registered fix")).toEqual([]);
  });

  it("fails on a scenario whose default differs", () => {
    const wrong = page.replace(
      "| `ip-forward-off` | `before`, `after`, `after-run`, `cross-node` | `after` |",
      "| `ip-forward-off` | `before`, `after`, `after-run`, `cross-node` | `before` |",
    );
    expect(wrong).not.toBe(page);
    expect(catalogueScenarios(wrong).get("ip-forward-off")?.defaultVariant).not.toBe(
      KNOWN_NAMES.scenarios.get("ip-forward-off")?.defaultVariant,
    );
  });
});

describe("links", () => {
  const exists = (path: string) => existsSync(new URL(path, ROOT));
  const anchorsIn = (path: string) => (docs.has(path) ? anchorsOf(docs.get(path) as string) : undefined);

  it("every relative link in the README and the docs leads to a file (and heading) that exists", () => {
    expect(brokenLinks(docs, exists, anchorsIn)).toEqual([]);
  });

  it("every page under docs/ is linked from the README", () => {
    const readme = docs.get("README.md") as string;
    expect([...docs.keys()].filter((p) => p !== "README.md" && !readme.includes(`](${p})`))).toEqual([]);
  });

  it("fails on a missing file and a missing heading", () => {
    const files = new Map([
      ["README.md", "[a](docs/gone.md) [b](docs/cli.md#no-such-heading) [c](https://example.org)"],
    ]);
    expect(brokenLinks(files, exists, anchorsIn)).toEqual([
      "README.md: docs/gone.md does not exist",
      "README.md: docs/cli.md#no-such-heading: no heading #no-such-heading",
    ]);
  });
});
