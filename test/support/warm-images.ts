import { access } from "node:fs/promises";
import { join } from "node:path";
import { connectEngine } from "../../src/harness/engine.js";
import { hostImageFor } from "../../src/library/host-image-for.js";
import { sourceDirForTests } from "./cli.js";
import { compilesEngine, warmUpOrder, type WarmEntry } from "./warm-entries.js";
import type { EntryOutcome } from "./warm-up-state.js";

/**
 * Builds (or finds cached) the images of every warm-up entry (test/support/warm-entries.ts)
 * through the path `DindContainer` uses, so each test file's timeout covers its own runs, not a
 * cold image build. The entries without a compiled engine come first; each entry's outcome is
 * handed to `done` as it ends, so a file that needs only those starts while the engines compile.
 * A failed entry does not stop the others: the files that need it fail with its reason.
 */
export async function warmImages(
  log: (line: string) => void,
  done: (matrix: string, outcome: EntryOutcome) => Promise<void>,
): Promise<void> {
  const docker = connectEngine();
  const failedEngines = new Map<string, string>();
  for (const entry of warmUpOrder()) {
    const started = performance.now();
    const earlier = compilesEngine(entry) ? failedEngines.get(entry.engine) : undefined;
    // another compile of an engine that just failed would fail the same way, minutes later
    const outcome: EntryOutcome = earlier
      ? { status: "failed", error: `not tried: ${earlier}` }
      : await warm(entry).then(
          (): EntryOutcome => ({ status: "ready" }),
          (error: unknown): EntryOutcome => ({
            status: "failed",
            error: `warming the images of ${entry.matrix} (${entry.engine}) failed: ${error instanceof Error ? error.message : String(error)}`,
          }),
        );
    if (outcome.status === "failed" && compilesEngine(entry) && !earlier)
      failedEngines.set(entry.engine, outcome.error);
    log(
      outcome.status === "ready"
        ? `warm: ${entry.matrix} ${entry.engine} in ${((performance.now() - started) / 1000).toFixed(1)} s`
        : `warm: ${entry.matrix} not warmed: ${outcome.error}`,
    );
    await done(entry.matrix, outcome);
  }

  async function warm(entry: WarmEntry): Promise<void> {
    const sources = entry.sourceFile ? await sourceDirForTests() : undefined;
    if (sources && entry.sourceFile) {
      const file = entry.sourceFile;
      await access(join(sources, file)).catch(() => {
        throw new Error(`${file} is not in ${sources}: set FWCOMPAT_SOURCE_DIR to the directory holding ${file}`);
      });
    }
    await withSourceDir(sources, () => hostImageFor(docker, entry, (line) => log(`  ${line}`)));
  }
}

/** Runs `work` with FWCOMPAT_SOURCE_DIR set to `dir` (as the tests hand it to their runs), restoring it after. */
async function withSourceDir<T>(dir: string | undefined, work: () => Promise<T>): Promise<T> {
  if (!dir) return work();
  const saved = process.env.FWCOMPAT_SOURCE_DIR;
  process.env.FWCOMPAT_SOURCE_DIR = dir;
  try {
    return await work();
  } finally {
    if (saved === undefined) delete process.env.FWCOMPAT_SOURCE_DIR;
    else process.env.FWCOMPAT_SOURCE_DIR = saved;
  }
}
