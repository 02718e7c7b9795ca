import { mkdtemp } from "node:fs/promises";
import { join } from "node:path";
import { inject } from "vitest";

declare module "vitest" {
  export interface ProvidedContext {
    /** this test run's scratch directory, made by test/support/integration-setup.ts and removed after the run */
    scratchRoot: string;
  }
}

/** A new directory inside this test run's scratch directory: no fixed path, nothing shared with another run. */
export async function scratchDir(prefix: string): Promise<string> {
  const root = inject("scratchRoot");
  if (!root)
    throw new Error(
      "scratchDir() needs the integration tier's global setup (test/support/integration-setup.ts), which makes the run's scratch directory",
    );
  return mkdtemp(join(root, prefix));
}
