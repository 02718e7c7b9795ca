import { readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";

/**
 * The image warm-up's progress, in the run's scratch directory: rewritten as each entry ends, so a
 * test file waits only for the entries it uses (test/support/warmed.ts).
 */
export const WARM_UP_FILE = "images-warm.json";

/** How an entry's warm-up ended. */
export type EntryOutcome = { status: "ready" } | { status: "failed"; error: string };

export type EntryState = { status: "pending" } | EntryOutcome;

/** Every warm-up entry by its matrix path. */
export type WarmUpState = Record<string, EntryState>;

/** Replaces the file in one step: a reader never sees half of it. */
export async function writeWarmUpState(dir: string, state: WarmUpState): Promise<void> {
  const partial = join(dir, `${WARM_UP_FILE}.partial`);
  await writeFile(partial, JSON.stringify(state));
  await rename(partial, join(dir, WARM_UP_FILE));
}

/** The state, or undefined before the warm-up has written it. */
export const readWarmUpState = (dir: string): Promise<WarmUpState | undefined> =>
  readFile(join(dir, WARM_UP_FILE), "utf8").then(
    (text) => JSON.parse(text) as WarmUpState,
    () => undefined,
  );

export type Readiness = { ready: true } | { ready: false; waiting: string[]; failed: string[] };

/** Whether the entries of `matrices` are all ready; the failed ones with their reasons, and the ones still pending. */
export function readiness(state: WarmUpState | undefined, matrices: readonly string[]): Readiness {
  const waiting: string[] = [];
  const failed: string[] = [];
  for (const matrix of matrices) {
    const entry = state?.[matrix];
    if (!entry || entry.status === "pending") waiting.push(matrix);
    else if (entry.status === "failed") failed.push(`${matrix}: ${entry.error}`);
  }
  return waiting.length || failed.length ? { ready: false, waiting, failed } : { ready: true };
}
