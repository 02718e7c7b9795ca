import { compareVersions } from "../config/versions.js";
import { USER_ACTION, VERDICT_COLUMNS, type CellResult } from "../results/schema.js";
import { latestUserActions } from "../results/verdicts.js";

/**
 * Engine twins: cells that differ only by engine, where both engines are releases of one series
 * (the same major version, e.g. 28.0.1 and 28.5.2). Their comparison says whether the two
 * releases behaved alike on the same host, iptables build, daemon options and scenario.
 */

/** What an engine twin pair was compared on. */
export type TwinAspect = "status" | "vantage" | "fix";

export interface TwinDifference {
  aspect: TwinAspect;
  /** the vantage or fix, empty for the status */
  name: string;
  /** what the older release's cell showed, and the newer one's */
  older: string;
  newer: string;
}

export interface EngineTwinComparison {
  /** the major version both engines belong to, e.g. "28" */
  series: string;
  older: CellResult;
  newer: CellResult;
  /** per aspect: did the two cells agree there */
  agrees: Record<TwinAspect, boolean>;
  differences: TwinDifference[];
}

/** The engine release a cell ran: what its dockerd said, else the version in the engine's name. */
export function engineRelease(r: CellResult): string | undefined {
  const said = /version (\d+\.\d+\.\d+)/.exec(r.baseline?.evidence?.dockerdVersion ?? "")?.[1];
  return said ?? /(\d+\.\d+\.\d+)/.exec(r.cell.engine)?.[1];
}

/** Everything that makes a cell what it is, except its engine. */
const withoutEngine = ({ provider, iptables, backend, daemon, topology, scenario, variant }: CellResult["cell"]) =>
  JSON.stringify([provider, iptables, backend, daemon, topology, scenario, variant ?? ""]);

/** A vantage's probes in one phrase: "ok 4/4", or the failing outcomes and how many failed, e.g. "timeout 3/4". */
export function vantageOutcome(r: CellResult, vantage: string): string {
  if (vantage === USER_ACTION) {
    const actions = latestUserActions(r.baseline ?? { userActions: [] });
    if (actions.length === 0) return "not tried";
    const failed = actions.filter((a) => !a.ok);
    return failed.length === 0
      ? `ok ${actions.length}/${actions.length}`
      : `failed ${failed.length}/${actions.length}: ${failed.map((a) => `${a.action} (exit ${a.exitCode})`).join(", ")}`;
  }
  const probes = r.baseline?.probes.filter((p) => p.vantage === vantage) ?? [];
  if (probes.length === 0) return "not probed";
  const failed = probes.filter((p) => !p.pass);
  if (failed.length === 0) return `ok ${probes.length}/${probes.length}`;
  return `${[...new Set(failed.map((p) => p.outcome))].sort().join("/")} ${failed.length}/${probes.length}`;
}

const fixVerdictOf = (r: CellResult, fix: string) =>
  r.fixes.find((f) => f.verdict.fix === fix)?.verdict.overall ?? "not run";

/** Status, each vantage either cell probed (or the user's actions) and each fix either ran: where the two differ. */
export function compareEngineTwins(older: CellResult, newer: CellResult, series: string): EngineTwinComparison {
  const differences: TwinDifference[] = [];
  if (older.status !== newer.status)
    differences.push({ aspect: "status", name: "", older: older.status, newer: newer.status });
  const tried = (r: CellResult) => [
    ...(r.baseline?.probes.map((p) => p.vantage) ?? []),
    ...(r.baseline?.userActions.length ? [USER_ACTION] : []),
  ];
  const vantages = new Set([...tried(older), ...tried(newer)]);
  for (const vantage of VERDICT_COLUMNS.filter((v) => vantages.has(v))) {
    const [a, b] = [vantageOutcome(older, vantage), vantageOutcome(newer, vantage)];
    if (a !== b) differences.push({ aspect: "vantage", name: vantage, older: a, newer: b });
  }
  const fixes = [...new Set([...older.fixes, ...newer.fixes].map((f) => f.verdict.fix))];
  for (const fix of fixes) {
    const [a, b] = [fixVerdictOf(older, fix), fixVerdictOf(newer, fix)];
    if (a !== b) differences.push({ aspect: "fix", name: fix, older: a, newer: b });
  }
  const agreesOn = (aspect: TwinAspect) => !differences.some((d) => d.aspect === aspect);
  return {
    series,
    older,
    newer,
    agrees: { status: agreesOn("status"), vantage: agreesOn("vantage"), fix: agreesOn("fix") },
    differences,
  };
}

/**
 * Every engine twin pair of the results, each release beside the next one of its series in the
 * same cell (ordered by cell id, then release).
 */
export function engineTwinComparisons(results: readonly CellResult[]): EngineTwinComparison[] {
  const groups = new Map<string, { release: string; result: CellResult }[]>();
  for (const result of results) {
    const release = engineRelease(result);
    if (!release) continue;
    const key = JSON.stringify([withoutEngine(result.cell), release.split(".")[0]]);
    groups.set(key, [...(groups.get(key) ?? []), { release, result }]);
  }
  const comparisons: EngineTwinComparison[] = [];
  for (const members of groups.values()) {
    const ordered = members.sort((a, b) => compareVersions(a.release, b.release));
    for (let i = 1; i < ordered.length; i++) {
      const [older, newer] = [ordered[i - 1], ordered[i]] as [(typeof ordered)[number], (typeof ordered)[number]];
      if (older.result.cell.engine === newer.result.cell.engine) continue;
      comparisons.push(compareEngineTwins(older.result, newer.result, older.release.split(".")[0] ?? ""));
    }
  }
  return comparisons.sort((a, b) => a.newer.cell.id.localeCompare(b.newer.cell.id));
}

/** One difference in words, e.g. "external: timeout 4/4 (docker-28.0.1) vs ok 4/4 (docker-28.5.2)". */
export function differenceLine(d: TwinDifference, c: EngineTwinComparison): string {
  const what = d.aspect === "status" ? "status" : d.aspect === "fix" ? `fix ${d.name}` : d.name;
  return `${what}: ${d.older} (${c.older.cell.engine}) vs ${d.newer} (${c.newer.cell.engine})`;
}
