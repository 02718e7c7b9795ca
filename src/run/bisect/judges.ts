import type Docker from "dockerode";
import { expandMatrix } from "../../config/expand.js";
import type { IptablesBuild, LoadedMatrix, Settings } from "../../config/schema.js";
import { runCheckProbe } from "../../harness/check-probe.js";
import type { BasePlan } from "../../harness/images/base-image.js";
import { buildCommit, type GitBuildContext } from "../../harness/images/git-build.js";
import type { HostProvider } from "../../harness/host.js";
import type { BisectStep, BisectCommitInfo } from "../../results/bisect.js";
import type { CellResult } from "../../results/schema.js";
import { runMatrix } from "../runner.js";
import type { BisectPlan, TrafficCell } from "./plan.js";

/** What judging one commit found: its build, and good, bad or skip (it could not be judged). */
export interface Judgement {
  info: BisectCommitInfo;
  build: BisectStep["build"];
  verdict: BisectStep["verdict"];
  observed: string;
  judgeMs: number;
  cell?: string;
}

export type Judge = (commit: string) => Promise<Judgement>;

/** Builds for a bisect are named by their commit, so each commit is built once and no label claims a release. */
export const commitBuildName = (commit: string) => `git-${commit.slice(0, 12)}`;

export interface JudgeContext {
  docker: Docker;
  runId: string;
  plan: BisectPlan;
  git: GitBuildContext;
  cprobeScript: string;
  settings: Settings;
}

export interface TrafficContext extends JudgeContext {
  cell: TrafficCell;
  basePlans: BasePlan[];
  debianMirror: string;
  onCell: (result: CellResult) => Promise<void>;
  onProvider: (provider: HostProvider) => void;
}

type Built = { ok: false; judgement: Judgement } | { ok: true; tag: string; versions: string[]; info: BisectCommitInfo; build: BisectStep["build"] };

/** Builds the commit (or finds its image); a commit that does not build is judged "skip" here. */
async function buildFor(ctx: JudgeContext, commit: string): Promise<Built> {
  const started = performance.now();
  const result = await buildCommit({ name: commitBuildName(commit) }, ctx.plan.mirror, commit, ctx.git);
  const ms = Math.round(performance.now() - started);
  const { describe, subject, date, author } = result.info ?? (await ctx.plan.mirror.info(commit));
  const info = { commit, describe, subject, date, author };
  if (!result.ok) {
    return { ok: false, judgement: { info, build: { status: "failed", ms, versions: [], reason: result.reason }, verdict: "skip", observed: "did not build", judgeMs: 0 } };
  }
  return { ok: true, tag: result.tag, versions: result.versions, info, build: { status: result.built ? "built" : "cached", ms, tag: result.tag, versions: result.versions } };
}

/** --by probe: the hosts' -C self-probe, asked of the commit's build in a throwaway container. */
export function probeJudge(ctx: JudgeContext): Judge {
  return async (commit) => {
    const built = await buildFor(ctx, commit);
    if (!built.ok) return built.judgement;
    const probe = await runCheckProbe(ctx.docker, { image: built.tag, build: { name: commitBuildName(commit) }, backend: ctx.plan.backend, cprobeScript: ctx.cprobeScript, runId: ctx.runId });
    const verdict = probe.answer === "correct" ? "good" : probe.answer === "buggy" ? "bad" : "skip";
    return { info: built.info, build: built.build, verdict, observed: probe.answer === "error" ? probe.detail : probe.answer, judgeMs: probe.ms };
  };
}

/** The release a build's binaries print, e.g. 1.8.10 for `iptables v1.8.10 (nf_tables)`. */
const printedVersion = (versions: readonly string[]) => versions.map((v) => /^iptables v(\d+\.\d+\.\d+)/.exec(v)?.[1]).find(Boolean);

/** --by traffic: the whole cell (scenario, engine, daemon options, topology) on a fresh host with the commit's build; baseline only. */
export function trafficJudge(ctx: TrafficContext): Judge {
  return async (commit) => {
    const built = await buildFor(ctx, commit);
    if (!built.ok) return built.judgement;
    const version = printedVersion(built.versions);
    if (!version) return { info: built.info, build: built.build, verdict: "skip", observed: "its binaries print no version", judgeMs: 0 };
    const build: IptablesBuild = {
      name: commitBuildName(commit),
      // the version the binaries print, checked again when the run's images are prepared
      version,
      source: { kind: "git", repository: ctx.plan.repository, ref: commit, commit },
      alternatives: [],
    };
    const matrix: LoadedMatrix = {
      version: 1,
      scenarios: [],
      settings: ctx.settings,
      iptables: [build],
      engines: [ctx.cell.engine],
      daemon: [ctx.cell.daemon],
      topologies: [ctx.cell.topology],
      matrix: [
        {
          provider: ["dind"],
          engine: [ctx.cell.engine.name],
          iptables: [build.name],
          backend: [ctx.plan.backend],
          daemon: [ctx.cell.daemon.name],
          topology: [ctx.cell.topology.name],
          scenario: [ctx.cell.scenario],
          fixes: [],
        },
      ],
    };
    const started = performance.now();
    const { results } = await runMatrix({
      docker: ctx.docker,
      runId: ctx.runId,
      matrix,
      cells: expandMatrix(matrix),
      engines: [ctx.cell.engine],
      basePlans: ctx.basePlans,
      mirror: ctx.debianMirror,
      concurrency: 1,
      repeat: 1,
      baselineOnly: true,
      finished: new Map(),
      log: ctx.git.log,
      onCell: ctx.onCell,
      onProvider: ctx.onProvider,
    });
    const judgeMs = Math.round(performance.now() - started);
    const [result] = results;
    if (!result) throw new Error(`no result for ${build.name}`);
    if (result.status === "error") throw new Error(`cell ${result.cell.id} ended in error: ${result.reason ?? result.baseline?.reason ?? "no reason"}`);
    const verdict = result.status === "works" ? "good" : result.status === "reproduced" ? "bad" : "skip";
    const observed = `${result.status}${result.brokenVantages.length ? ` (${result.brokenVantages.join(", ")})` : ""}${verdict === "skip" && result.reason ? `: ${result.reason}` : ""}`;
    return { info: built.info, build: built.build, verdict, observed, judgeMs, cell: result.cell.id };
  };
}
