import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { warmImages } from "./warm-images.js";

/**
 * The integration tier's global setup: the run's scratch directory (handed to the tests as
 * `scratchRoot`, removed after the run) and the images every file needs, built once up front.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const scratchRoot = await mkdtemp(join(tmpdir(), "fwcompat-tests-"));
  project.provide("scratchRoot", scratchRoot);
  const teardown = () => rm(scratchRoot, { recursive: true, force: true });
  try {
    await warmImages((line) => process.stderr.write(`${line}\n`));
  } catch (error) {
    await teardown();
    throw error;
  }
  return teardown;
}
