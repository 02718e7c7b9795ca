// Benchmark: warm per-cell time split by phase, then the default matrix's wall time.
// Usage: npm run bench [-- --repeat N] [-- --skip-matrix]
import { mkdtemp, readdir, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { execa } from "execa";
import type { CellResult } from "../src/results/schema.js";
import { loadMatrixFile } from "../src/config/load.js";
import { KNOWN_NAMES } from "../src/run/registry.js";
import { connectEngine } from "../src/harness/engine.js";
import { machineDebianMirror } from "../src/harness/apt-mirror.js";
import { planBaseImages } from "../src/harness/images/base-image.js";
import { prepareImages, suitesNeeded } from "../src/harness/images/prepare.js";
import { DindProvider } from "../src/harness/providers/dind.js";
import { buildBinDir, selectIptablesCommand } from "../src/contract/host-contract.js";

const { values } = parseArgs({ options: { repeat: { type: "string", default: "3" }, "skip-matrix": { type: "boolean", default: false } } });
const repeat = Number(values.repeat);
const cli = (args: string[]) => execa(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], { reject: false, all: true });
const phases = ["hostStart", "dockerdStart", "scenario", "probes", "teardown"] as const;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

async function runOnce(args: string[]): Promise<{ wallMs: number; cells: CellResult[] }> {
  const out = await mkdtemp(join(tmpdir(), "fwcompat-bench-"));
  const started = performance.now();
  const run = await cli(["run", "--out", out, ...args]);
  const wallMs = performance.now() - started;
  if (run.exitCode !== 0) throw new Error(`run failed (${run.exitCode}):\n${run.all?.slice(-2000)}`);
  const dir = join(out, "cells");
  const cells = await Promise.all((await readdir(dir)).map(async (f) => JSON.parse(await readFile(join(dir, f), "utf8")) as CellResult));
  return { wallMs, cells };
}

const single = ["--filter", "provider=dind", "--filter", "scenario=curl-timeout", "--filter", "iptables=1.8.11-2", "--filter", "daemon=proxy-off", "--concurrency", "1", "--baseline-only"];
console.log("warming the image cache (first run may build images)...");
await runOnce([...single]);
const samples: Record<string, number[]> = { wall: [], total: [] };
for (let i = 0; i < repeat; i++) {
  const { wallMs, cells } = await runOnce(single);
  samples.wall?.push(wallMs);
  const baseline = cells[0]?.baseline;
  if (!baseline) throw new Error("no baseline in the bench cell");
  for (const phase of phases) (samples[phase] ??= []).push(baseline.timingsMs[phase] ?? 0);
  samples.total?.push(phases.reduce((sum, p) => sum + (baseline.timingsMs[p] ?? 0), 0));
}
console.log(`\nwarm single attempt (curl-timeout, docker-28.5.2, 1.8.11-2 nft, 3 bridges), median of ${repeat}:`);
for (const [key, xs] of Object.entries(samples)) console.log(`  ${key.padEnd(13)} ${(median(xs) / 1000).toFixed(2)} s   [${xs.map((x) => (x / 1000).toFixed(2)).join(", ")}]`);
await shimOverhead();

if (!values["skip-matrix"]) {
  const { wallMs, cells } = await runOnce([]);
  const attempts = cells.reduce((n, c) => n + (c.baseline ? 1 : 0) + c.fixes.length, 0);
  console.log(`\ndefault matrix: ${cells.length} cells, ${attempts} host attempts, wall ${(wallMs / 1000).toFixed(1)} s`);
}

/** Cost of the tracing shim: the same iptables calls through the shim and straight to the build. */
async function shimOverhead(): Promise<void> {
  const matrix = await loadMatrixFile("matrix.yaml", KNOWN_NAMES);
  const docker = connectEngine();

  const engines = matrix.engines.filter((e) => e.name === "docker-28.5.2");
  const { plans: basePlans, mirror } = await planBaseImages(docker, suitesNeeded(engines), await machineDebianMirror(), matrix.settings.baseImage);
  const images = await prepareImages(docker, { engines, builds: matrix.iptables, basePlans, settings: matrix.settings, mirror, log: () => {} });
  const host = images.hosts.get("docker-28.5.2");
  if (!host?.ok) throw new Error("no host image for the shim benchmark");
  const provider = new DindProvider(docker, `bench-${process.pid}`, images.peerTag);
  try {
    const h = await provider.start({ image: host.tag, label: "shim-bench" });
    const calls = 300;
    const loop = (bin: string) =>
      `${bin} -N B; ${bin} -A B -i eth0 -j RETURN; s=$(date +%s%N); i=0; while [ $i -lt ${calls} ]; do ${bin} -C B -i eth0 -j RETURN; i=$((i+1)); done; e=$(date +%s%N); ${bin} -F B; ${bin} -X B; echo $(( (e - s) / 1000 ))`;
    const build = { name: "1.8.11-2" };
    await h.sh(`${selectIptablesCommand(build, "nft")} >/dev/null`);
    const direct = Number((await h.sh(loop(`${buildBinDir(build, "nft")}/iptables`), 120_000)).stdout.trim());
    const shimmed = Number((await h.sh(loop("iptables"), 120_000)).stdout.trim());
    const per = (us: number) => (us / calls / 1000).toFixed(2);
    console.log(`\ntracing shim, ${calls} x iptables -C (1.8.11-2 nft): direct ${per(direct)} ms/call, through the shim ${per(shimmed)} ms/call (+${per(shimmed - direct)} ms)`);
  } finally {
    await provider.close();
  }
}
