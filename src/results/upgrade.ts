import type { z } from "zod";
import {
  cellResultSchema,
  RESULT_SCHEMA_VERSION,
  type AttemptResult,
  type CellResult,
  type UserActionRecord,
} from "./schema.js";
import { baselineStatus, judgeFix } from "./verdicts.js";

/** The result schema versions this version of fwcompat reads. */
export const READABLE_SCHEMA_VERSIONS = [1, RESULT_SCHEMA_VERSION] as const;

const USER_ACTION_STEP = /^(.+): (docker run -p \d+:\d+|docker network create)$/;

/** Version 1 kept the user's actions only as steps (named "<when>: <action>"): read them back. */
function userActionsFromSteps(attempt: AttemptResult): UserActionRecord[] {
  return attempt.steps.flatMap((step) => {
    const match = USER_ACTION_STEP.exec(step.name);
    if (!match) return [];
    const error = step.exitCode === 0 ? "" : (step.stderr.trim() || step.stdout.trim()).slice(0, 2000);
    return [
      { action: match[2] as string, when: match[1] as string, ok: step.exitCode === 0, exitCode: step.exitCode, error },
    ];
  });
}

/**
 * A version 1 result judged again by today's rules: its user actions read from its steps,
 * its status and fix verdicts recomputed (a fix that left `docker run -p` failing is no
 * longer `repaired`), the rules a fix restored kept as they were.
 */
function upgradeFromV1(old: CellResult): CellResult {
  const withActions = (a: AttemptResult): AttemptResult => ({ ...a, userActions: userActionsFromSteps(a) });
  const baseline = old.baseline ? withActions(old.baseline) : undefined;
  const fixes = old.fixes.map((f) => ({ attempt: withActions(f.attempt), verdict: f.verdict }));
  const upgraded: CellResult = { ...old, schemaVersion: RESULT_SCHEMA_VERSION, baseline, fixes };
  if (!baseline || (old.status !== "works" && old.status !== "reproduced")) return upgraded;
  return {
    ...upgraded,
    ...baselineStatus(baseline),
    fixes: fixes.map((f) => ({
      attempt: f.attempt,
      verdict: { ...judgeFix(baseline, f.attempt), restoredRules: f.verdict.restoredRules },
    })),
  };
}

export type ReadResult = { success: true; data: CellResult } | { success: false; error: z.ZodError };

/** Parses a cell result of any readable schema version into the current one. */
export function readCellResult(value: unknown): ReadResult {
  if ((value as { schemaVersion?: unknown } | null)?.schemaVersion === 1) {
    const parsed = cellResultSchema.safeParse({ ...(value as object), schemaVersion: RESULT_SCHEMA_VERSION });
    return parsed.success
      ? { success: true, data: upgradeFromV1(parsed.data) }
      : { success: false, error: parsed.error };
  }
  const parsed = cellResultSchema.safeParse(value);
  return parsed.success ? { success: true, data: parsed.data } : { success: false, error: parsed.error };
}
