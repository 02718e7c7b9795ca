import { join } from "node:path";
import { UserError } from "../../errors.js";
import { BISECT_SCHEMA_VERSION, type BisectFile, type BisectStep } from "../../results/bisect.js";
import { writeAtomically } from "../../results/write.js";
import type { Judge, Judgement } from "./judges.js";
import type { BisectPlan } from "./plan.js";
import { commitsLeft, nextIndex, outcome, record, startSearch, stepsLeft, type Judged } from "./search.js";

export interface BisectIo {
  runId: string;
  outDir: string;
  /** one line per judged commit and the result, for the user */
  say: (line: string) => void;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

/** One printed line per judged commit: what was built (or found), what the judge saw, how long each took. */
export function stepLine(step: BisectStep): string {
  const label = step.role === "step" ? `step ${step.k} of ~${step.of}` : `${step.role} endpoint`;
  const build = `build ${seconds(step.build.ms)} (${step.build.status})`;
  const judged = step.verdict === "skip" && step.build.status === "failed" ? "skipped: did not build" : `${step.observed} → ${step.verdict}`;
  const left = step.left === undefined ? "" : `  [${step.left} left]`;
  return `${label.padEnd(14)} ${step.commit.slice(0, 12)} ${step.describe.padEnd(22)} ${build.padEnd(22)} judged ${seconds(step.judgeMs).padStart(6)}  ${judged}${left}`;
}

/**
 * Judges both endpoints, then binary-searches the chain between them for the first commit
 * judged like the newer endpoint. bisect.json is rewritten after every judgement, so an
 * interrupted bisect keeps what it saw. Endpoints judged against the user's claim are bad
 * input (UserError); a judge that throws is a harness failure.
 */
export async function runBisect(plan: BisectPlan, judge: Judge, io: BisectIo): Promise<BisectFile> {
  const started = performance.now();
  const file: BisectFile = {
    schemaVersion: BISECT_SCHEMA_VERSION,
    kind: "bisect",
    runId: io.runId,
    startedAt: new Date().toISOString(),
    state: "running",
    by: plan.by,
    repository: plan.repository,
    judge: { backend: plan.backend, ...(plan.cell ? { scenario: plan.cell.scenario, engine: plan.cell.engine.name, daemon: plan.cell.daemon.name, topology: plan.cell.topology.name } : {}) },
    good: plan.good,
    bad: plan.bad,
    direction: plan.direction,
    commits: plan.chain.length,
    steps: [],
    builds: { built: 0, cached: 0, failed: 0 },
    wallMs: 0,
  };
  const save = async () => {
    file.wallMs = Math.round(performance.now() - started);
    await writeAtomically(join(io.outDir, "bisect.json"), `${JSON.stringify(file, null, 2)}\n`);
  };
  const commitAt = (index: number) => (index === 0 ? plan.older : (plan.chain[index - 1] as string));
  const judgeOnce = async (commit: string): Promise<Judgement> => {
    try {
      return await judge(commit);
    } catch {
      // a judge throwing is the harness failing (often load); one more try before giving up
      return judge(commit);
    }
  };
  const keep = async (judgement: Judgement, fields: Pick<BisectStep, "role" | "k" | "of" | "left">) => {
    const step: BisectStep = { ...fields, ...judgement.info, build: judgement.build, verdict: judgement.verdict, observed: judgement.observed, judgeMs: judgement.judgeMs, ...(judgement.cell ? { cell: judgement.cell } : {}) };
    file.steps.push(step);
    file.builds[judgement.build.status]++;
    io.say(stepLine(step));
    await save();
    return step;
  };
  const fail = async (reason: string) => {
    file.state = "failed";
    file.reason = reason;
    await save();
    return new UserError(reason);
  };

  const newerIndex = plan.chain.length;
  const [oldRole, newRole] = plan.direction === "regression" ? (["good", "bad"] as const) : (["bad", "good"] as const);
  io.say(
    `bisect ${plan.good.ref} (good) .. ${plan.bad.ref} (bad) by ${plan.by === "probe" ? `the -C probe (${plan.backend})` : `traffic (${file.judge.scenario}, ${file.judge.engine}, ${plan.backend}, ${file.judge.daemon})`}: ` +
      `${plan.chain.length - 1} commit(s) between, about ${stepsLeft(startSearch(newerIndex))} step(s)`,
  );
  try {
    for (const [index, role] of [[0, oldRole], [newerIndex, newRole]] as const) {
      const ref = role === "good" ? plan.good.ref : plan.bad.ref;
      const step = await keep(await judgeOnce(commitAt(index)), { role });
      if (step.verdict === "skip") throw await fail(`--${role} ${ref} cannot be judged: ${step.build.reason?.split("\n")[0] ?? step.observed}`);
      if (step.verdict !== role) throw await fail(`--${role} ${ref} is not ${role} by ${plan.by === "probe" ? "the -C probe" : "traffic"}: ${step.observed}`);
    }
    let search = startSearch(newerIndex);
    const byCommit = new Map(file.steps.map((s) => [s.commit, s]));
    for (let k = 1; ; k++) {
      const index = nextIndex(search);
      if (index === undefined) break;
      const estimate = k - 1 + stepsLeft(search);
      const judgement = await judgeOnce(commitAt(index));
      const judged: Judged = judgement.verdict === "skip" ? "skip" : judgement.verdict === oldRole ? "old" : "new";
      search = record(search, index, judged);
      byCommit.set(judgement.info.commit, await keep(judgement, { role: "step", k, of: estimate, left: commitsLeft(search) }));
    }
    const found = outcome(search);
    if (found?.kind === "found") {
      const flip = byCommit.get(commitAt(found.index)) as BisectStep;
      const parent = byCommit.get(commitAt(found.index - 1)) as BisectStep;
      file.state = "found";
      file.result = {
        kind: plan.direction === "regression" ? "first-bad" : "fixing",
        commit: flip.commit,
        describe: flip.describe,
        subject: flip.subject,
        date: flip.date,
        author: flip.author,
        parent: { commit: parent.commit, describe: parent.describe, observed: parent.observed },
      };
      io.say(`${plan.direction === "regression" ? "first bad commit" : "fixing commit"}: ${flip.commit} (${flip.describe}, ${flip.date.slice(0, 10)}, ${flip.author})`);
      io.say(`  ${flip.subject}`);
      io.say(`  judged ${flip.observed}; its parent ${parent.commit.slice(0, 12)} judged ${parent.observed}`);
    } else if (found) {
      file.state = "ambiguous";
      file.candidates = await Promise.all(found.indices.map(async (i) => {
        const info = await plan.mirror.info(commitAt(i));
        return { commit: info.commit, describe: info.describe, subject: info.subject, date: info.date, author: info.author };
      }));
      io.say(`only commits that could not be judged are left: the verdict flips at one of ${file.candidates.map((c) => c.commit.slice(0, 12)).join(", ")}`);
    }
    await save();
    io.say(`${file.steps.length} commits judged, ${file.builds.built} built, ${file.builds.cached} cached, ${file.builds.failed} did not build; ${seconds(file.wallMs)}`);
    return file;
  } catch (error) {
    if (file.state === "running") {
      file.state = "failed";
      file.reason = (error as Error).message;
      await save();
    }
    throw error;
  }
}
