import { join } from "node:path";
import { UserError } from "../../errors.js";
import { BISECT_SCHEMA_VERSION, rangeLabel, type BisectFile, type BisectStep } from "../../results/bisect.js";
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
  const judged =
    step.verdict === "skip" && step.build.status === "failed"
      ? "skipped: did not build"
      : `${step.observed} → ${step.verdict}`;
  const left = step.left === undefined ? "" : `  [${step.left} left]`;
  return `${label.padEnd(14)} ${step.commit.slice(0, 12)} ${step.describe.padEnd(22)} ${build.padEnd(22)} judged ${seconds(step.judgeMs).padStart(6)}  ${judged}${left}`;
}

function newBisectFile(plan: BisectPlan, runId: string): BisectFile {
  const cell = plan.cell;
  return {
    schemaVersion: BISECT_SCHEMA_VERSION,
    kind: "bisect",
    runId,
    startedAt: new Date().toISOString(),
    state: "running",
    by: plan.by,
    repository: plan.repository,
    judge: {
      backend: plan.backend,
      ...(cell
        ? { scenario: cell.scenario, engine: cell.engine.name, daemon: cell.daemon.name, topology: cell.topology.name }
        : {}),
    },
    good: plan.good,
    bad: plan.bad,
    direction: plan.direction,
    commits: plan.chain.length,
    steps: [],
    builds: { built: 0, cached: 0, failed: 0 },
    wallMs: 0,
  };
}

/** bisect.json as the bisect goes: rewritten after every judgement, so an interrupted bisect keeps what it saw. */
class Journal {
  private readonly started = performance.now();

  constructor(
    readonly file: BisectFile,
    private readonly io: BisectIo,
  ) {}

  async save(): Promise<void> {
    this.file.wallMs = Math.round(performance.now() - this.started);
    await writeAtomically(join(this.io.outDir, "bisect.json"), `${JSON.stringify(this.file, null, 2)}\n`);
  }

  async keep(judgement: Judgement, fields: Pick<BisectStep, "role" | "k" | "of" | "left">): Promise<BisectStep> {
    const { info, build, verdict, observed, judgeMs, cell } = judgement;
    const step: BisectStep = { ...fields, ...info, build, verdict, observed, judgeMs, ...(cell ? { cell } : {}) };
    this.file.steps.push(step);
    this.file.builds[build.status]++;
    this.io.say(stepLine(step));
    await this.save();
    return step;
  }

  async fail(reason: string): Promise<void> {
    if (this.file.state !== "running") return;
    this.file.state = "failed";
    this.file.reason = reason;
    await this.save();
  }
}

/** A judge that throws is the harness failing (often under load): one more try before giving up. */
const judgeTwice = (judge: Judge) => async (commit: string) => {
  try {
    return await judge(commit);
  } catch {
    return judge(commit);
  }
};

/**
 * Judges both endpoints, then binary-searches the chain between them for the first commit
 * judged like the newer endpoint. Endpoints judged against the user's claim are bad input
 * (UserError); a judge that fails twice is a harness failure.
 */
export async function runBisect(plan: BisectPlan, judge: Judge, io: BisectIo): Promise<BisectFile> {
  const journal = new Journal(newBisectFile(plan, io.runId), io);
  const { file } = journal;
  const judgeCommit = judgeTwice(judge);
  const commitAt = (index: number) => (index === 0 ? plan.older : (plan.chain[index - 1] as string));
  const newerIndex = plan.chain.length;
  const [oldRole, newRole] = plan.direction === "regression" ? (["good", "bad"] as const) : (["bad", "good"] as const);
  const judgedBy = plan.by === "probe" ? "the -C probe" : "traffic";
  io.say(
    `bisect ${rangeLabel(file)} by ${plan.by === "probe" ? `the -C probe (${plan.backend})` : `traffic (${file.judge.scenario}, ${file.judge.engine}, ${plan.backend}, ${file.judge.daemon})`}: ` +
      `${plan.chain.length - 1} commit(s) between, about ${stepsLeft(startSearch(newerIndex))} step(s)`,
  );
  try {
    const byCommit = new Map<string, BisectStep>();
    for (const [index, role] of [
      [0, oldRole],
      [newerIndex, newRole],
    ] as const) {
      const ref = plan[role].ref;
      const step = await journal.keep(await judgeCommit(commitAt(index)), { role });
      const wrong =
        step.verdict === "skip"
          ? `--${role} ${ref} cannot be judged: ${step.build.reason?.split("\n")[0] ?? step.observed}`
          : step.verdict !== role
            ? `--${role} ${ref} is not ${role} by ${judgedBy}: ${step.observed}`
            : undefined;
      if (wrong) {
        await journal.fail(wrong);
        throw new UserError(wrong);
      }
      byCommit.set(step.commit, step);
    }
    let search = startSearch(newerIndex);
    for (let k = 1, index = nextIndex(search); index !== undefined; k++, index = nextIndex(search)) {
      const estimate = k - 1 + stepsLeft(search);
      const judgement = await judgeCommit(commitAt(index));
      const judged: Judged = judgement.verdict === "skip" ? "skip" : judgement.verdict === oldRole ? "old" : "new";
      search = record(search, index, judged);
      byCommit.set(
        judgement.info.commit,
        await journal.keep(judgement, { role: "step", k, of: estimate, left: commitsLeft(search) }),
      );
    }
    const found = outcome(search);
    if (found?.kind === "found") {
      const flip = byCommit.get(commitAt(found.index)) as BisectStep;
      const parent = byCommit.get(commitAt(found.index - 1)) as BisectStep;
      const { commit, describe, subject, date, author } = flip;
      file.state = "found";
      file.result = {
        kind: plan.direction === "regression" ? "first-bad" : "fixing",
        commit,
        describe,
        subject,
        date,
        author,
        parent: { commit: parent.commit, describe: parent.describe, observed: parent.observed },
      };
      io.say(
        `${plan.direction === "regression" ? "first bad commit" : "fixing commit"}: ${commit} (${describe}, ${date.slice(0, 10)}, ${author})`,
      );
      io.say(`  ${subject}`);
      io.say(`  judged ${flip.observed}; its parent ${parent.commit.slice(0, 12)} judged ${parent.observed}`);
    } else if (found) {
      file.state = "ambiguous";
      file.candidates = await Promise.all(
        found.indices.map(async (i) => {
          const { commit, describe, subject, date, author } = await plan.mirror.info(commitAt(i));
          return { commit, describe, subject, date, author };
        }),
      );
      io.say(
        `only commits that could not be judged are left: the verdict flips at one of ${file.candidates.map((c) => c.commit.slice(0, 12)).join(", ")}`,
      );
    }
    await journal.save();
    io.say(
      `${file.steps.length} commits judged, ${file.builds.built} built, ${file.builds.cached} cached, ${file.builds.failed} did not build; ${seconds(file.wallMs)}`,
    );
    return file;
  } catch (error) {
    await journal.fail((error as Error).message);
    throw error;
  }
}
