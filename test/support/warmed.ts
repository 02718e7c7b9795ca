import { inject } from "vitest";
import { WARM_ENTRIES } from "./warm-entries.js";
import { readiness, readWarmUpState } from "./warm-up-state.js";

/**
 * Waits until the warm-up (test/support/integration-setup.ts) has the images of these entries
 * (their matrix paths, as in test/support/warm-entries.ts) ready; throws with the warm-up's reason
 * if one of them failed. Every integration file waits for the entries without a compiled engine
 * (test/support/integration-ready.ts); a file that runs a compiled engine declares its entry at
 * its top: `await warmedImages("test/fixtures/matrices/docker29.yaml")`. The declaration also
 * makes the file run after the others (test/support/compiled-last-sequencer.ts).
 */
export async function warmedImages(...matrices: string[]): Promise<void> {
  const unknown = matrices.filter((matrix) => !WARM_ENTRIES.some((entry) => entry.matrix === matrix));
  if (unknown.length)
    throw new Error(`no warm-up entry for ${unknown.join(", ")} (test/support/warm-entries.ts lists them)`);
  const scratchRoot = inject("scratchRoot");
  for (;;) {
    const state = readiness(await readWarmUpState(scratchRoot), matrices);
    if (state.ready) return;
    if (state.failed.length) throw new Error(`the images this file needs are not ready: ${state.failed.join("; ")}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
