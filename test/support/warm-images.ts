import { access } from "node:fs/promises";
import { join } from "node:path";
import { connectEngine } from "../../src/harness/engine.js";
import { hostImageFor } from "../../src/library/host-image-for.js";
import { sourceDirForTests } from "./cli.js";

/**
 * The images the integration tests' matrix runs use, one entry per matrix file (a host image
 * carries every iptables build of its matrix). `iptables` is one build the matrix must have.
 * Builds the tests exercise themselves (from git, from a test's own source directory, bisect
 * steps, VM boxes) are not warmed: building them is what those tests check.
 */
const WARM = [
  { matrix: "test/fixtures/matrices/integration.yaml", engine: "docker-28.5.2", iptables: "1.8.11" },
  { matrix: "test/fixtures/matrices/flush-all.yaml", engine: "docker-28.5.2", iptables: "1.8.11" },
  { matrix: "test/fixtures/matrices/verdicts.yaml", engine: "docker-28.5.2", iptables: "1.8.11" },
  { matrix: "test/fixtures/matrices/flush-forwarding-on.yaml", engine: "docker-28.5.2", iptables: "1.8.11-2" },
  { matrix: "test/fixtures/matrices/host-firewalls.yaml", engine: "docker-28.5.2", iptables: "1.8.11-2" },
  { matrix: "test/fixtures/matrices/broken-daemon.yaml", engine: "docker-28.5.2", iptables: "1.8.11-2" },
  { matrix: "test/fixtures/user-scenario/matrix.yaml", engine: "docker-28.5.2", iptables: "1.8.11-2" },
  // Docker 29 compiled from the moby archive in the shared source directory
  {
    matrix: "test/fixtures/matrices/docker29.yaml",
    engine: "docker-29.7.2",
    iptables: "1.8.11",
    sourceFile: "moby-docker-v29.7.2.tar.xz",
  },
  // the same engine and builds: the image above, found in the cache
  {
    matrix: "test/fixtures/matrices/nft-self-repair.yaml",
    engine: "docker-29.7.2",
    iptables: "1.8.11-2",
    sourceFile: "moby-docker-v29.7.2.tar.xz",
  },
  // Docker 28.0.1 compiled (GOPATH layout) from the v28.0.1 archive in the shared source directory
  {
    matrix: "test/fixtures/matrices/docker28-0-1.yaml",
    engine: "docker-28.0.1",
    iptables: "1.8.11",
    sourceFile: "moby-v28.0.1.tar.xz",
  },
] as const;

/**
 * Builds (or finds cached) those images through the path `DindContainer` uses, so each test
 * file's timeout covers its own runs, not a cold image build. Throws when the engine is not
 * reachable or an image cannot be had: the integration tier does not run without them.
 */
export async function warmImages(log: (line: string) => void): Promise<void> {
  const docker = connectEngine();
  for (const entry of WARM) {
    const started = performance.now();
    const sources = "sourceFile" in entry ? await sourceDirForTests() : undefined;
    if (
      sources &&
      "sourceFile" in entry &&
      !(await access(join(sources, entry.sourceFile)).then(
        () => true,
        () => false,
      ))
    ) {
      // the test that needs it fails naming the missing file; the other files need not wait for it
      log(`warm: ${entry.matrix} not warmed: no ${entry.sourceFile} in ${sources}`);
      continue;
    }
    await withSourceDir(sources, () => hostImageFor(docker, entry, (line) => log(`  ${line}`))).catch(
      (error: unknown) => {
        throw new Error(
          `warming the images of ${entry.matrix} (${entry.engine}) failed: ${error instanceof Error ? error.message : String(error)}`,
          { cause: error },
        );
      },
    );
    log(`warm: ${entry.matrix} ${entry.engine} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
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
