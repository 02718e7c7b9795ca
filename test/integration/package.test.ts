import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { cellResultSchema } from "../../src/results/schema.js";
import { labelledContainers } from "../support/cli.js";
import { scratchDir } from "../support/scratch.js";
import { expectEvery } from "../support/quantifiers.js";

// The package as a user gets it: `npm pack`, installed into an empty directory that holds no
// checkout, then run from there. Dependencies come from the npm registry, as for any user.
const ROOT = new URL("../../", import.meta.url).pathname;
let appDir = "";
let shipped: string[] = [];
const fwcompat = (args: string[], timeoutMs: number) =>
  execa(join(appDir, "node_modules", ".bin", "fwcompat"), args, { cwd: appDir, reject: false, timeout: timeoutMs });

beforeAll(async () => {
  const packDir = await scratchDir("fwcompat-pack-");
  const pack = await execa("npm", ["pack", "--json", "--pack-destination", packDir], { cwd: ROOT, timeout: 180_000 });
  const [packed] = JSON.parse(pack.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  if (!packed) throw new Error(`npm pack printed no package: ${pack.stdout}`);
  shipped = packed.files.map((f) => f.path);
  appDir = await scratchDir("fwcompat-user-");
  await execa("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", join(packDir, packed.filename)], {
    cwd: appDir,
    timeout: 600_000,
  });
}, 800_000);

describe("the npm package", () => {
  it("ships compiled JavaScript, the default matrix, host tools, goldens and Vagrant files, and no TypeScript sources or tests", () => {
    for (const file of [
      "bin/fwcompat.js",
      "dist/src/cli/main.js",
      "dist/src/index.js",
      "dist/src/index.d.ts",
      "dist/scenarios/index.js",
      "matrix.yaml",
      "host-files/fwcompat-hostd",
      "vagrant/Vagrantfile",
      "vagrant/build-box.mjs",
      "package.json",
    ]) {
      expect(shipped, file).toContain(file);
    }
    expect(shipped.some((f) => f.startsWith("goldens/") && f.endsWith(".rules"))).toBe(true);
    expect(shipped.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))).toEqual([]);
    expect(shipped.filter((f) => /^(src|test|scripts|\.github|\.ci)\//.test(f))).toEqual([]);
  });

  it("installs into an empty directory without tsx, and is not private", async () => {
    const manifest = JSON.parse(await readFile(join(appDir, "node_modules", "fwcompat", "package.json"), "utf8"));
    expect(manifest.private).toBeUndefined();
    expect(manifest.engines.node).toBe("^20.19.0");
    expect(existsSync(join(appDir, "node_modules", "tsx"))).toBe(false);
    expect(existsSync(join(appDir, "node_modules", "fwcompat", "src"))).toBe(false);
  });

  it("`fwcompat --help` answers from there, in well under 0.3 s", async () => {
    const usage = await fwcompat(["--help"], 10_000);
    expect(usage.exitCode).toBe(0);
    expect(usage.stdout).toMatch(/^usage: fwcompat run /);
    // Interleaved with a bare `node -e 0`, so a failure shows whether Node itself was slow (a loaded machine).
    const timed = async (file: string, args: string[]) => {
      const started = performance.now();
      await execa(file, args, { cwd: appDir });
      return performance.now() - started;
    };
    const help: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i < 11; i++) {
      help.push(await timed(join(appDir, "node_modules", ".bin", "fwcompat"), ["--help"]));
      bare.push(await timed(process.execPath, ["-e", "0"]));
    }
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[5] as number;
    const line = `fwcompat --help: median ${median(help).toFixed(0)} ms over 11 runs; bare node -e 0: median ${median(bare).toFixed(0)} ms`;
    console.log(line);
    expect(median(help), line).toBeLessThan(300);
  });

  it(
    "a filtered `fwcompat run` works from a directory without a checkout, with the packaged default matrix",
    async () => {
      const run = await fwcompat(
        [
          "run",
          "--filter",
          "provider=dind",
          "--filter",
          "engine=docker-28.5.2",
          "--filter",
          "iptables=1.8.11-2",
          "--filter",
          "scenario=curl-timeout",
          "--filter",
          "daemon=proxy-off",
          "--baseline-only",
          "--out",
          "results",
        ],
        20 * 60_000,
      );
      expect(run.exitCode, run.stderr.slice(-3000)).toBe(0);
      const runInfo = JSON.parse(await readFile(join(appDir, "results", "run.json"), "utf8"));
      expect(runInfo.matrixFile).toBe(join(appDir, "node_modules", "fwcompat", "matrix.yaml"));
      const files = await readdir(join(appDir, "results", "cells"));
      expect(files).toEqual(["curl-timeout__dind__docker-28.5.2__1.8.11-2-nft__proxy-off__3-bridges.json"]);
      const result = cellResultSchema.parse(
        JSON.parse(await readFile(join(appDir, "results", "cells", files[0] as string), "utf8")),
      );
      expect(result.status).toBe("works");
      expect(result.baseline?.evidence?.checkProbe).toBe("correct");
      expect(result.baseline?.probes.length).toBeGreaterThan(0);
      expectEvery(result.baseline?.probes, (p) => p.pass);
      expect(await labelledContainers(runInfo.runId)).toBe(0);
    },
    20 * 60_000,
  );
});
