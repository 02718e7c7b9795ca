import { UserError } from "../errors.js";
import type { DaemonOptionSet, Engine, IptablesBuild, MatrixFile, Topology } from "./schema.js";

export interface Cell {
  /** stable, filesystem-safe identity of the cell */
  id: string;
  provider: "dind" | "vagrant";
  engine: Engine;
  iptables: IptablesBuild;
  backend: "nft" | "legacy";
  daemon: DaemonOptionSet;
  topology: Topology;
  scenario: string;
  variant: string | undefined;
  fixes: string[];
}

export const filterKeys = [
  "cell",
  "provider",
  "engine",
  "iptables",
  "backend",
  "daemon",
  "topology",
  "scenario",
] as const;
export type FilterKey = (typeof filterKeys)[number];
export type Filters = Map<FilterKey, Set<string>>;

/** Parses repeated `key=value` arguments; the same key twice means either value. */
export function parseFilters(args: readonly string[]): Filters {
  const filters: Filters = new Map();
  for (const arg of args) {
    const eq = arg.indexOf("=");
    const key = arg.slice(0, eq) as FilterKey;
    if (eq < 1 || !filterKeys.includes(key) || eq === arg.length - 1) {
      throw new UserError(`--filter '${arg}': use key=value with key one of ${filterKeys.join(", ")}`);
    }
    const values = filters.get(key) ?? new Set<string>();
    values.add(arg.slice(eq + 1));
    filters.set(key, values);
  }
  return filters;
}

/** One cell of the named choices (`scenario` as `name` or `name:variant`), with the id every run gives it. */
export function makeCell(choice: Omit<Cell, "id" | "scenario" | "variant"> & { scenario: string }): Cell {
  const { provider, engine, iptables, backend, daemon, topology } = choice;
  const [scenario = "", variant] = choice.scenario.split(":", 2);
  const id = [
    choice.scenario.replace(":", "+"),
    provider,
    engine.name,
    `${iptables.name}-${backend}`,
    daemon.name,
    topology.name,
  ]
    .join("__")
    .replace(/[^A-Za-z0-9._+-]/g, "_");
  return { id, provider, engine, iptables, backend, daemon, topology, scenario, variant, fixes: [...choice.fixes] };
}

/** Crosses every matrix block's axes into cells; a cell named by two blocks appears once. */
export function expandMatrix(matrix: MatrixFile): Cell[] {
  const byName = <T extends { name: string }>(items: T[]) => new Map(items.map((item) => [item.name, item]));
  const builds = byName(matrix.iptables);
  const engines = byName(matrix.engines);
  const daemons = byName(matrix.daemon);
  const topologies = byName(matrix.topologies);
  const cells = new Map<string, Cell>();
  for (const block of matrix.matrix) {
    for (const provider of block.provider)
      for (const engineName of block.engine)
        for (const buildName of block.iptables)
          for (const backend of block.backend)
            for (const daemonName of block.daemon)
              for (const topologyName of block.topology)
                for (const scenarioRef of block.scenario) {
                  const cell = makeCell({
                    provider,
                    engine: must(engines.get(engineName)),
                    iptables: must(builds.get(buildName)),
                    backend,
                    daemon: must(daemons.get(daemonName)),
                    topology: must(topologies.get(topologyName)),
                    scenario: scenarioRef,
                    fixes: block.fixes,
                  });
                  const existing = cells.get(cell.id);
                  if (existing) existing.fixes = [...new Set([...existing.fixes, ...block.fixes])];
                  else cells.set(cell.id, cell);
                }
  }
  return [...cells.values()];
}

export function applyFilters(cells: Cell[], filters: Filters): Cell[] {
  if (filters.size === 0) return cells;
  const selected = cells.filter((cell) =>
    [...filters].every(([key, values]) => [...values].some((value) => cellMatches(cell, key, value))),
  );
  if (selected.length === 0) {
    const shown = [...filters].map(([k, v]) => [...v].map((x) => `${k}=${x}`).join(" or ")).join(" and ");
    throw new UserError(
      `--filter ${shown} matches none of the ${cells.length} cells; check the names in the matrix file`,
    );
  }
  return selected;
}

/** The names a cell is selected by, as filters and gate expectations write them. */
export interface CellNames {
  id: string;
  provider: string;
  engine: string;
  iptables: string;
  backend: string;
  daemon: string;
  topology: string;
  scenario: string;
  variant?: string | undefined;
}

/** How a scenario and its variant are written everywhere: curl-timeout, flush-then-run:filter. */
export const scenarioLabel = (names: { scenario: string; variant?: string | undefined }) =>
  names.variant ? `${names.scenario}:${names.variant}` : names.scenario;

export const namesOf = (cell: Cell): CellNames => ({
  id: cell.id,
  provider: cell.provider,
  engine: cell.engine.name,
  iptables: cell.iptables.name,
  backend: cell.backend,
  daemon: cell.daemon.name,
  topology: cell.topology.name,
  scenario: cell.scenario,
  variant: cell.variant,
});

export function namesMatch(names: CellNames, key: FilterKey, value: string): boolean {
  if (key === "cell") return names.id === value;
  if (key === "scenario") return names.scenario === value || `${names.scenario}:${names.variant ?? ""}` === value;
  return names[key] === value;
}

const cellMatches = (cell: Cell, key: FilterKey, value: string) => namesMatch(namesOf(cell), key, value);

function must<T>(value: T | undefined): T {
  if (value === undefined) throw new Error("matrix references were not validated before expansion");
  return value;
}
