import type { MissingSource } from "../results/missing-source.js";
import type { CellResult } from "../results/schema.js";

/** What a person can do about a missing source, which decides the line it is said on. */
type Remedy = "allow-downloads" | "downloads-failed" | "local-only";

const remedyOf = (source: MissingSource): Remedy =>
  !source.onlineRoute ? "local-only" : source.downloadsAllowed ? "downloads-failed" : "allow-downloads";

const WHY: Record<Remedy, string> = {
  "allow-downloads": "sources not found offline",
  "downloads-failed": "sources not found here, and downloading them failed (each reason in summary.md)",
  "local-only": "sources not found",
};

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** "a", "a and b", "a, b and c" */
const joinAnd = (items: readonly string[]) =>
  items.length <= 1 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;

const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

function remedyLine(remedy: Remedy, sources: readonly MissingSource[], cells: number): string {
  const files = [...new Set(sources.flatMap((s) => s.files))];
  const where = files.length ? `set FWCOMPAT_SOURCE_DIR=DIR holding ${files.join(", ")}` : "see summary.md";
  const or = remedy === "allow-downloads" ? `${files.length ? "," : ""} or allow downloads` : "";
  return `${joinAnd(sources.map((s) => s.label))}: ${plural(cells, "cell", "cells")} unavailable — ${WHY[remedy]}; ${where}${or}`;
}

/**
 * The end of a run's word on its unavailable cells: one line per kind of remedy naming the
 * sources that were missing and what to provide (engines first), then one line per other
 * reason, each with how many cells it kept from running. Nothing when every cell ran.
 */
export function unavailableSummary(results: readonly CellResult[], missing: readonly MissingSource[] = []): string[] {
  const unavailable = results.filter((r) => r.status === "unavailable");
  // engines first, then by name: the order builds finished in is not the order to read them in
  const ordered = [...missing].sort((a, b) =>
    a.axis === b.axis ? a.label.localeCompare(b.label) : a.axis === "engine" ? -1 : 1,
  );
  const causes = (r: CellResult) =>
    ordered.filter((s) => (s.axis === "engine" ? r.cell.engine === s.name : r.cell.iptables === s.name));
  const byRemedy = new Map<Remedy, { sources: Set<MissingSource>; cells: Set<string> }>();
  const otherReasons = new Map<string, number>();
  for (const result of unavailable) {
    const found = causes(result);
    if (found.length === 0) {
      const why = clip((result.reason ?? "no reason recorded").split("\n")[0] ?? "", 240);
      otherReasons.set(why, (otherReasons.get(why) ?? 0) + 1);
      continue;
    }
    for (const source of found) {
      const group = byRemedy.get(remedyOf(source)) ?? { sources: new Set(), cells: new Set() };
      group.sources.add(source);
      group.cells.add(result.cell.id);
      byRemedy.set(remedyOf(source), group);
    }
  }
  const remedies: Remedy[] = ["allow-downloads", "downloads-failed", "local-only"];
  return [
    ...remedies.flatMap((remedy) => {
      const group = byRemedy.get(remedy);
      if (!group) return [];
      const sources = ordered.filter((s) => group.sources.has(s));
      return [remedyLine(remedy, sources, group.cells.size)];
    }),
    ...[...otherReasons].map(([why, n]) => `${plural(n, "cell", "cells")} unavailable — ${why}`),
  ];
}
