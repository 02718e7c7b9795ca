import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { execa } from "execa";
import { HOST_TOOLS, SHIM_SOURCE } from "../../src/contract/host-contract.js";
import { SHIM_CFLAGS } from "../../src/harness/images/shim-image.js";

const SOURCE = new URL(`../../host-files/${SHIM_SOURCE}`, import.meta.url).pathname;

/** Compiles the shim with this machine's cc and the flags the host images use; returns the binary's path. */
export async function compileShim(dir: string): Promise<string> {
  const binary = join(dir, HOST_TOOLS.iptablesShim);
  const cc = await execa("cc", [...SHIM_CFLAGS, "-o", binary, SOURCE], { reject: false });
  if (cc.failed) {
    const why =
      cc.exitCode === undefined ? "no C compiler (cc) on this machine; scripts/setup.sh installs gcc" : cc.stderr;
    throw new Error(`cannot compile ${SHIM_SOURCE}: ${why}`);
  }
  if (cc.stderr) throw new Error(`${SHIM_SOURCE} compiles with warnings:\n${cc.stderr}`);
  return binary;
}

/**
 * For a test file: a scratch directory with the shim compiled into it before the file's tests
 * and removed after them. The fields are filled once beforeAll has run.
 */
export function compiledShimScratch(prefix: string): { dir: string; shim: string } {
  const scratch = { dir: "", shim: "" };
  beforeAll(async () => {
    scratch.dir = await mkdtemp(join(tmpdir(), prefix));
    scratch.shim = await compileShim(scratch.dir);
  });
  afterAll(async () => {
    await rm(scratch.dir, { recursive: true, force: true });
  });
  return scratch;
}
