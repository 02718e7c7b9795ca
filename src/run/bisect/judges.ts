import type Docker from "dockerode";
import { makeCell, type Cell } from "../../config/expand.js";
import type { IptablesBuild, Settings } from "../../config/schema.js";
import { runCheckProbe } from "../../harness/check-probe.js";
import { buildCommit, type GitBuildContext } from "../../harness/images/git-build.js";
import type { BisectStep, BisectCommitInfo } from "../../results/bisect.js";
import type { CellResult } from "../../results/schema.js";
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
  /** runs one cell, baseline only, on a fresh host whose only iptables build is `build`; the run session's */
  runCell: (cell: Cell, build: IptablesBuild) => Promise<CellResult>;
}

type Built =
  | { ok: false; judgement: Judgement }
  | { ok: true; tag: string; versions: string[]; info: BisectCommitInfo; build: BisectStep["build"] };

/** Builds the commit (or finds its image); a commit that does not build is judged "skip" here. */
async function buildFor(ctx: JudgeContext, commit: string): Promise<Built> {
  const started = performance.now();
  const result = await buildCommit({ name: commitBuildName(commit) }, ctx.plan.mirror, commit, ctx.git);
  const ms = Math.round(performance.now() - started);
  const { describe, subject, date, author } = result.info ?? (await ctx.plan.mirror.info(commit));
  const info = { commit, describe, subject, date, author };
  if (!result.ok) {
    return {
      ok: false,
      judgement: {
        info,
        build: { status: "failed", ms, versions: [], reason: result.reason },
        verdict: "skip",
        observed: "did not build",
        judgeMs: 0,
      },
    };
  }
  return {
    ok: true,
    tag: result.tag,
    versions: result.versions,
    info,
    build: { status: result.built ? "built" : "cached", ms, tag: result.tag, versions: result.versions },
  };
}

/** --by probe: the hosts' -C self-probe, asked of the commit's build in a throwaway container. */
export function probeJudge(ctx: JudgeContext): Judge {
  return async (commit) => {
    const built = await buildFor(ctx, commit);
    if (!built.ok) return built.judgement;
    const probe = await runCheckProbe(ctx.docker, {
      image: built.tag,
      build: { name: commitBuildName(commit) },
      backend: ctx.plan.backend,
      cprobeScript: ctx.cprobeScript,
      runId: ctx.runId,
    });
    const verdict = probe.answer === "correct" ? "good" : probe.answer === "buggy" ? "bad" : "skip";
    return {
      info: built.info,
      build: built.build,
      verdict,
      observed: probe.answer === "error" ? probe.detail : probe.answer,
      judgeMs: probe.ms,
    };
  };
}

/** The release a build's binaries print, e.g. 1.8.10 for `iptables v1.8.10 (nf_tables)`. */
const printedVersion = (versions: readonly string[]) =>
  versions.map((v) => /^iptables v(\d+\.\d+\.\d+)/.exec(v)?.[1]).find(Boolean);

/** --by traffic: the whole cell (scenario, engine, daemon options, topology) on a fresh host with the commit's build; baseline only. */
export function trafficJudge(ctx: TrafficContext): Judge {
  return async (commit) => {
    const built = await buildFor(ctx, commit);
    if (!built.ok) return built.judgement;
    const version = printedVersion(built.versions);
    if (!version)
      return {
        info: built.info,
        build: built.build,
        verdict: "skip",
        observed: "its binaries print no version",
        judgeMs: 0,
      };
    const build: IptablesBuild = {
      name: commitBuildName(commit),
      // the version the binaries print, checked again when the run's images are prepared
      version,
      source: { kind: "git", repository: ctx.plan.repository, ref: commit, commit },
      alternatives: [],
    };
    const cell = makeCell({ ...ctx.cell, provider: "dind", iptables: build, backend: ctx.plan.backend, fixes: [] });
    const started = performance.now();
    const result = await ctx.runCell(cell, build);
    const judgeMs = Math.round(performance.now() - started);
    if (result.status === "error")
      throw new Error(
        `cell ${result.cell.id} ended in error: ${result.reason ?? result.baseline?.reason ?? "no reason"}`,
      );
    const verdict = result.status === "works" ? "good" : result.status === "reproduced" ? "bad" : "skip";
    const observed = `${result.status}${result.brokenVantages.length ? ` (${result.brokenVantages.join(", ")})` : ""}${verdict === "skip" && result.reason ? `: ${result.reason}` : ""}`;
    return { info: built.info, build: built.build, verdict, observed, judgeMs, cell: result.cell.id };
  };
}
