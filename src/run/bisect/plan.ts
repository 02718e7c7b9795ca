import type { DaemonOptionSet, Engine, IptablesSource, MatrixFile, Topology } from "../../config/schema.js";
import { explicitVariant } from "../../config/cross-references.js";
import { UserError } from "../../errors.js";
import type { GitMirror } from "../../harness/git/repository.js";
import { openRepository } from "../../harness/images/git-build.js";
import { KNOWN_NAMES } from "../registry.js";

export interface BisectRequest {
  good: string;
  bad: string;
  by: "probe" | "traffic";
  /** a repository spec; default: the one git source of the matrix's iptables builds */
  repository: string | undefined;
  backend: "nft" | "legacy";
  /** the cell to judge by (--by traffic): scenario[:variant], engine, daemon option set, topology */
  scenario: string | undefined;
  engine: string | undefined;
  daemon: string | undefined;
  topology: string | undefined;
  matrix: MatrixFile;
  matrixFile: string;
}

export interface TrafficCell {
  engine: Engine;
  daemon: DaemonOptionSet;
  topology: Topology;
  /** scenario or scenario:variant */
  scenario: string;
}

export interface BisectPlan {
  by: "probe" | "traffic";
  repository: string;
  mirror: GitMirror;
  good: { ref: string; commit: string };
  bad: { ref: string; commit: string };
  direction: "regression" | "fix";
  older: string;
  /** the commits after `older` up to the newer endpoint on its first-parent line, oldest first */
  chain: string[];
  backend: "nft" | "legacy";
  cell: TrafficCell | undefined;
}

const oneOf = <T extends { name: string }>(
  items: readonly T[],
  wanted: string | undefined,
  what: string,
  option: string,
  matrixFile: string,
): T => {
  const names = items.map((i) => i.name);
  if (wanted === undefined) {
    const [only] = items;
    if (items.length === 1 && only) return only;
    throw new UserError(`--by traffic needs --${option}: one of ${names.join(", ")} (from ${matrixFile})`);
  }
  const found = items.find((i) => i.name === wanted);
  if (!found)
    throw new UserError(`--${option} '${wanted}': unknown ${what}; ${matrixFile} declares ${names.join(", ")}`);
  return found;
};

/**
 * The topologies to choose from without --topology: those the matrix runs this scenario on
 * (curl-timeout never on the multi-node cells' 2 nodes); for a scenario it does not run, those
 * with the nodes the scenario needs (one node, or at least its minimum); else every one.
 */
export function topologiesOf(scenario: string, matrix: BisectRequest["matrix"]): BisectRequest["matrix"]["topologies"] {
  const wanted = explicitVariant(scenario, KNOWN_NAMES);
  const paired = new Set(
    matrix.matrix
      .filter((block) => block.scenario.some((s) => explicitVariant(s, KNOWN_NAMES) === wanted))
      .flatMap((b) => b.topology),
  );
  const runs = matrix.topologies.filter((t) => paired.has(t.name));
  if (runs.length > 0) return runs;
  const [name = "", variant] = wanted.split(":", 2);
  const needed = KNOWN_NAMES.scenarios.get(name)?.minNodes?.(variant) ?? 1;
  const fitting = matrix.topologies.filter((t) => (needed === 1 ? t.nodes === 1 : t.nodes >= needed));
  return fitting.length > 0 ? fitting : matrix.topologies;
}

function trafficCell(request: BisectRequest): TrafficCell | undefined {
  const { matrix, matrixFile } = request;
  if (request.by === "probe") {
    const given = (["scenario", "engine", "daemon", "topology"] as const).filter((key) => request[key] !== undefined);
    if (given.length)
      throw new UserError(
        `--${given[0]} is for --by traffic; --by probe asks each build the -C question and runs no cell`,
      );
    return undefined;
  }
  if (!request.scenario)
    throw new UserError(`--by traffic needs --scenario: one of ${[...KNOWN_NAMES.scenarios.keys()].join(", ")}`);
  const [scenario = "", variant] = request.scenario.split(":", 2);
  const variants = KNOWN_NAMES.scenarios.get(scenario);
  if (!variants)
    throw new UserError(
      `--scenario '${scenario}': unknown scenario; known: ${[...KNOWN_NAMES.scenarios.keys()].join(", ")}`,
    );
  if (variant !== undefined && !variants.variants.includes(variant)) {
    throw new UserError(
      `--scenario '${request.scenario}': scenario '${scenario}' has no variant '${variant}'; variants: ${variants.variants.join(", ") || "(none)"}`,
    );
  }
  return {
    engine: oneOf(matrix.engines, request.engine, "engine", "engine", matrixFile),
    daemon: oneOf(matrix.daemon, request.daemon, "daemon option set", "daemon", matrixFile),
    topology: oneOf(topologiesOf(request.scenario, matrix), request.topology, "topology", "topology", matrixFile),
    scenario: request.scenario,
  };
}

/**
 * The repository to bisect: --repository, else the one repository the matrix's builds come from
 * by git (their alternatives, e.g. upstream's URL beside a local bundle, are other routes to the
 * same history: consulted only when no build's own source is git).
 */
export function repositoryOf(request: Pick<BisectRequest, "repository" | "matrix" | "matrixFile">): string {
  if (request.repository) return request.repository;
  const gitRepositories = (sources: readonly IptablesSource[]) =>
    new Set(sources.flatMap((source) => (source.kind === "git" ? [source.repository] : [])));
  const own = gitRepositories(request.matrix.iptables.map((build) => build.source));
  const specs = own.size > 0 ? own : gitRepositories(request.matrix.iptables.flatMap((build) => build.alternatives));
  const [only] = specs;
  if (specs.size === 1 && only) return only;
  if (specs.size === 0)
    throw new UserError(
      `bisect needs --repository (a git URL, path or bundle): ${request.matrixFile} has no iptables build from git`,
    );
  throw new UserError(`bisect needs --repository: ${request.matrixFile} names several (${[...specs].join(", ")})`);
}

/** Checks everything the user typed against the repository before anything is built; bad input is one UserError. */
export async function planBisect(request: BisectRequest): Promise<BisectPlan> {
  const cell = trafficCell(request);
  const repository = repositoryOf(request);
  const opened = await openRepository(repository, request.matrix.settings);
  if (!opened.ok) throw new UserError(opened.reason);
  const { mirror } = opened;
  const resolve = async (option: string, ref: string) => {
    const commit = await mirror.resolve(ref);
    if (!commit) throw new UserError(`--${option} '${ref}': no such commit, tag or branch in ${repository}`);
    return { ref, commit };
  };
  const good = await resolve("good", request.good);
  const bad = await resolve("bad", request.bad);
  if (good.commit === bad.commit)
    throw new UserError(
      `--good ${good.ref} and --bad ${bad.ref} are the same commit (${good.commit.slice(0, 12)}): nothing to bisect`,
    );
  const direction = (await mirror.isAncestor(good.commit, bad.commit))
    ? "regression"
    : (await mirror.isAncestor(bad.commit, good.commit))
      ? "fix"
      : undefined;
  if (!direction)
    throw new UserError(
      `--good ${good.ref} and --bad ${bad.ref} are not ancestor and descendant: bisect needs one to contain the other`,
    );
  const [older, newer] = direction === "regression" ? [good, bad] : [bad, good];
  const chain = await mirror.firstParentRange(older.commit, newer.commit);
  if (!chain)
    throw new UserError(
      `${older.ref} is not on the first-parent line of ${newer.ref} (it is only on a merged branch); bisect from a commit on that line`,
    );
  return {
    by: request.by,
    repository,
    mirror,
    good,
    bad,
    direction,
    older: older.commit,
    chain,
    backend: request.backend,
    cell,
  };
}
