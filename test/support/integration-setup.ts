import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { WARM_UP_FILE, type WarmUpState } from "./warm-up-state.js";
import { warmImages } from "./warm-images.js";

/**
 * The integration tier's global setup: the run's scratch directory (handed to the tests as
 * `scratchRoot`, removed after the run) and the images every file needs, built once. Vitest runs
 * every project's global setup before the first test of any tier, so the warm-up goes on in the
 * background while the unit and local tiers run; each integration file waits for it
 * (test/support/integration-ready.ts) and fails with its error if it failed.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const scratchRoot = await mkdtemp(join(tmpdir(), "fwcompat-tests-"));
  project.provide("scratchRoot", scratchRoot);
  const record = (state: WarmUpState) => writeFile(join(scratchRoot, WARM_UP_FILE), JSON.stringify(state));
  const warming = warmImages((line) => process.stderr.write(`${line}\n`)).then(
    () => record({ ok: true }),
    (error: unknown) => record({ ok: false, error: error instanceof Error ? error.message : String(error) }),
  );
  return async () => {
    await warming;
    await rm(scratchRoot, { recursive: true, force: true });
  };
}
