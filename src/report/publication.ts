import { z } from "zod";
import { kernelLine } from "../contract/kernel-capability.js";
import { machineFactsSchema } from "../results/machine.js";
import { cellResultSchema, type CellResult } from "../results/schema.js";
import type { MergedResults, UnreadResult } from "./merge.js";
import { renderReport } from "./report.js";

/** The files of docs/compatibility/, in the order they are written. */
export const PUBLISHED_FILES = ["results.json", "about.json", "report.md", "index.html"] as const;

const namedSourceSchema = z.object({ name: z.string(), source: z.string(), seen: z.array(z.string()) });

/** What a published report says about its run, beside the results: kept in about.json, rendered into report.md. */
export const aboutSchema = z.object({
  runId: z.string(),
  matrixFile: z.string(),
  /** when the last cell finished (ISO 8601): the report's date */
  ranAt: z.iso.datetime(),
  /** the machine the run ran on, as its run.json recorded it */
  machine: machineFactsSchema,
  /** the kernels the hosts read before dockerd started, per provider (dind: this machine's); absent before cells recorded them */
  kernels: z.array(z.object({ provider: z.string(), kernel: z.string() })).optional(),
  engines: z.array(namedSourceSchema),
  iptables: z.array(namedSourceSchema),
});
export type About = z.infer<typeof aboutSchema>;

const distinct = (values: readonly (string | undefined)[]) =>
  [...new Set(values.filter((v): v is string => Boolean(v)))].sort();

/** When the run ended: the latest end of any of its cells. */
export function endOfRun(cells: readonly CellResult[]): string {
  const ends = cells.map((c) => Date.parse(c.startedAt) + c.durationMs);
  if (ends.length === 0) throw new Error("a run without cells has no end");
  return new Date(Math.max(...ends)).toISOString();
}

/** The versions the hosts themselves reported for each engine and iptables build the cells used. */
export function versionsSeen(cells: readonly CellResult[]): {
  engines: Map<string, string[]>;
  iptables: Map<string, string[]>;
} {
  const by = (key: "engine" | "iptables", read: (c: CellResult) => string | undefined) =>
    new Map(
      distinct(cells.map((c) => c.cell[key])).map((name) => [
        name,
        distinct(cells.filter((c) => c.cell[key] === name).map(read)),
      ]),
    );
  return {
    engines: by("engine", (c) => c.baseline?.evidence?.dockerdVersion),
    iptables: by("iptables", (c) => c.baseline?.evidence?.iptablesPackage),
  };
}

/** Each distinct kernel reading of the cells, per provider, in words ("6.18.0: legacy xtables builtin, nf_tables builtin"). */
export function kernelsSeen(cells: readonly CellResult[]): NonNullable<About["kernels"]> {
  const seen = distinct(cells.map((c) => (c.kernel ? `${c.cell.provider}\t${kernelLine(c.kernel)}` : undefined)));
  return seen.map((line) => {
    const [provider = "", kernel = ""] = line.split("\t");
    return { provider, kernel };
  });
}

/** A published run has every cell run: none of these. */
export const DID_NOT_RUN: ReadonlySet<CellResult["status"]> = new Set(["unavailable", "unsupported", "error"]);

/** The cells a published report lacks or has beyond the expected ones, one line each. */
export function cellDifference(published: readonly CellResult[], expectedIds: readonly string[]): string[] {
  const ran = new Set(published.map((c) => c.cell.id));
  const expected = new Set(expectedIds);
  return [
    ...expectedIds.filter((id) => !ran.has(id)).map((id) => `missing: ${id}`),
    ...[...ran].filter((id) => !expected.has(id)).map((id) => `not in the default matrix: ${id}`),
  ];
}

/** The headline: per scenario, how many cells ran and how they ended. */
export function headlineTable(cells: readonly CellResult[]): string {
  const statuses = cellResultSchema.shape.status.options.filter((s) => cells.some((c) => c.status === s));
  const scenarios = distinct(cells.map((c) => scenarioName(c)));
  const row = (cells: readonly CellResult[]) => statuses.map((s) => cells.filter((c) => c.status === s).length);
  return [
    `| scenario | cells | ${statuses.join(" | ")} |`,
    `|---|---|${statuses.map(() => "---|").join("")}`,
    ...scenarios.map((scenario) => {
      const of = cells.filter((c) => scenarioName(c) === scenario);
      return `| ${scenario} | ${of.length} | ${row(of).join(" | ")} |`;
    }),
    `| **all** | **${cells.length}** | ${row(cells)
      .map((n) => `**${n}**`)
      .join(" | ")} |`,
  ].join("\n");
}

const scenarioName = (c: CellResult) => (c.cell.variant ? `${c.cell.scenario}:${c.cell.variant}` : c.cell.scenario);

/** What the hosts read of their kernels (legacy xtables, nf_tables) before dockerd started; nothing for runs that did not read it. */
function kernelsSentence(about: About): string {
  if (!about.kernels?.length) return "";
  const where = (provider: string) =>
    provider === "dind" ? "dind hosts (this machine's kernel)" : `${provider} guests`;
  return `Kernels the hosts ran on, as each read it before dockerd started: ${about.kernels
    .map((k) => `${where(k.provider)} ${k.kernel}`)
    .join("; ")}.
`;
}

/** The section report.md opens with: when, where and with what the published run ran, and its headline. */
export function aboutMarkdown(about: About, cells: readonly CellResult[]): string {
  const m = about.machine;
  const list = (items: About["engines"]) =>
    items.map((i) => `- \`${i.name}\`: ${i.source}; the hosts reported ${i.seen.join("; ") || "nothing"}`).join("\n");
  return `# fwcompat compatibility report (published)

The full default matrix (\`${about.matrixFile}\`), run ${about.runId}, finished ${about.ranAt}, on a machine with
kernel ${m.kernel}, ${m.cores} cores, ${m.memoryGiB} GiB, cgroup ${m.cgroup}, outer engine ${m.outerEngine}.
${kernelsSentence(about)}The evidence of each cell is in [index.html](index.html) (open it locally or on the project's Pages site).

## Headline

${headlineTable(cells)}

## Engines

${list(about.engines)}

## iptables builds

${list(about.iptables)}

`;
}

/** An attempt without the shim's raw call record: the page shows the trace's analysis, which stays. */
const withoutRawTrace = <A extends { traceLog?: string }>({ traceLog: _raw, ...attempt }: A): Omit<A, "traceLog"> =>
  attempt;

/**
 * A published report's results: dated by the run and named by it, not by when they were merged or
 * where they lay, and without raw call traces (most of a run's bytes; the run directory keeps them).
 */
export const publishedResults = (merged: MergedResults, about: About): MergedResults => ({
  ...merged,
  generatedAt: about.ranAt,
  sources: [`run ${about.runId}`],
  cells: merged.cells.map((cell) => ({
    ...cell,
    ...(cell.baseline && { baseline: withoutRawTrace(cell.baseline) }),
    fixes: cell.fixes.map((fix) => ({ ...fix, attempt: withoutRawTrace(fix.attempt) })),
  })),
});

/**
 * A published report: the run's results dated by the run, about.json, report.md opening with the
 * run's machine, engines, builds and headline, and the page. The same input always renders the same
 * bytes, so a test can tell a committed report made by other report code.
 */
export async function renderPublication(
  merged: MergedResults,
  about: About,
  goldensDir: string,
): Promise<{ files: Record<(typeof PUBLISHED_FILES)[number], string>; unread: UnreadResult[] }> {
  const results = publishedResults(merged, about);
  const { files, unread } = await renderReport(results, [], goldensDir);
  const cellsSection = files["report.md"].replace(/^# [^\n]*\n\n/, "## Every cell\n\n");
  return {
    files: {
      "results.json": files["results.json"],
      "about.json": `${JSON.stringify(about, null, 2)}\n`,
      "report.md": `${aboutMarkdown(about, results.cells)}${cellsSection}`,
      "index.html": files["index.html"],
    },
    unread,
  };
}
