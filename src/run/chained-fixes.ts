import type { Fix } from "../api/scenario.js";
import type { AttemptResult } from "../results/schema.js";
import { withDeadline } from "../harness/engine.js";
import { timerInto } from "../harness/timing.js";
import type { Host } from "../harness/host.js";
import { judgeFix } from "../results/verdicts.js";
import { applyFix, closeHost, newAttempt, openHost, probeAndRead, setUpHost, type AttemptInput } from "./attempt.js";

/** the name (in the log, the progress display and the host's label) of the one attempt that regression-checks a healthy cell's fixes together */
export const CHAINED_ATTEMPT = "chained-fixes";

export interface ChainedFixes {
  /** each fix that kept every probe and every user action as expected on the shared host, as its own record */
  ok: AttemptResult[];
  /** the fixes to try again each on its own fresh host: not ok in the chain, not reached, or not applicable there */
  again: Fix[];
}

/** Judged against the healthy baseline, target by target, the fix changed nothing that worked. */
const stillWorks = (baseline: AttemptResult, after: AttemptResult) =>
  !after.refusal && judgeFix(baseline, after).overall === "ok";

/**
 * The regression check of a cell whose baseline works, on one host: set up and break as the
 * baseline did, then each fix in turn, probed after each. A fix after which the host still
 * works is ok, and its record says which fixes it came after. The first that is not (or an
 * error) ends the chain: it and every fix after it are tried again on their own fresh hosts,
 * so every verdict other than ok rests on an attempt of its own. A fix not applicable on the
 * shared host changed nothing there; it is tried again alone (an earlier fix may be why).
 */
export async function runChainedFixes(
  input: Omit<AttemptInput, "fix">,
  baseline: AttemptResult,
  fixes: readonly Fix[],
): Promise<ChainedFixes> {
  const ok: AttemptResult[] = [];
  const again: Fix[] = [];
  const shared = newAttempt(CHAINED_ATTEMPT);
  const timed = timerInto(shared.timingsMs);
  const hosts: Host[] = [];
  let next = 0;
  const budget = input.settings.attemptTimeoutMs * Math.max(1, fixes.length);
  try {
    await withDeadline(
      (async () => {
        const ctx = await openHost(input, shared, timed, (h, primary) => (primary ? hosts.unshift(h) : hosts.push(h)));
        if (!(await setUpHost(ctx, input, shared, timed))) return;
        for (; next < fixes.length; next++) {
          const fix = fixes[next] as Fix;
          const record: AttemptResult = {
            ...newAttempt(fix.name),
            // what was done on this host so far: the set-up, the breakage and the earlier fixes
            steps: ctx.steps,
            userActions: ctx.userActions,
            errors: ctx.errors,
            evidence: shared.evidence,
            // the kernel read on this host before its dockerd started
            ...(shared.kernel ? { kernel: shared.kernel } : {}),
            chainedAfter: ok.map((a) => a.name),
          };
          const fixTimed = timerInto(record.timingsMs);
          if (!(await applyFix(ctx, input, fix, record, fixTimed))) {
            again.push(fix);
            continue;
          }
          await probeAndRead(ctx, input, record, fixTimed);
          if (!stillWorks(baseline, record)) return;
          // the host's set-up is counted once, on the first fix checked on it
          if (ok.length === 0) Object.assign(record.timingsMs, shared.timingsMs, record.timingsMs);
          ok.push({ ...record, steps: [...ctx.steps], userActions: [...ctx.userActions], errors: [...ctx.errors] });
        }
      })(),
      budget,
      `the chained fixes exceeded their ${budget / 1000}s deadline`,
    );
  } catch {
    // an error on the shared host says nothing about the fixes not yet checked: they run alone
  } finally {
    if (hosts.length > 0) await closeHost(hosts, shared, timed);
  }
  return { ok, again: [...again, ...fixes.slice(next)] };
}
