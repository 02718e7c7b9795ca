import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { WARM_ENTRIES } from "./warm-entries.js";
import { writeWarmUpState, type EntryOutcome, type WarmUpState } from "./warm-up-state.js";
import { warmImages } from "./warm-images.js";

/**
 * The integration tier's global setup: the run's scratch directory (handed to the tests as
 * `scratchRoot`, removed after the run) and the images the files need, built once. Vitest runs
 * every project's global setup before the first test of any tier, so the warm-up goes on in the
 * background while the unit and local tiers run. Its state is written per entry as each ends
 * (test/support/warm-up-state.ts); each integration file waits for the entries it needs
 * (test/support/integration-ready.ts, test/support/warmed.ts) and fails with their error if one failed.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const scratchRoot = await mkdtemp(join(tmpdir(), "fwcompat-tests-"));
  project.provide("scratchRoot", scratchRoot);
  const state: WarmUpState = Object.fromEntries(WARM_ENTRIES.map((entry) => [entry.matrix, { status: "pending" }]));
  await writeWarmUpState(scratchRoot, state);
  const record = (matrix: string, outcome: EntryOutcome) => {
    state[matrix] = outcome;
    return writeWarmUpState(scratchRoot, state);
  };
  const warming = warmImages((line) => process.stderr.write(`${line}\n`), record).catch(async (error: unknown) => {
    // whatever stopped the warm-up is the reason of every entry it did not get to
    const reason = `the image warm-up stopped: ${error instanceof Error ? error.message : String(error)}`;
    for (const [matrix, entry] of Object.entries(state))
      if (entry.status === "pending") state[matrix] = { status: "failed", error: reason };
    await writeWarmUpState(scratchRoot, state);
  });
  return async () => {
    await warming;
    await rm(scratchRoot, { recursive: true, force: true });
  };
}
