// Benchmark: warm per-cell time split by phase, then the default matrix's wall time.
// Usage: npm run bench [-- --repeat N] [-- --skip-matrix]
import { mkdtemp, readdir, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { execa } from "execa";
import type { CellResult } from "../src/results/schema.js";

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

const single = ["--filter", "scenario=curl-timeout", "--filter", "iptables=1.8.11-2", "--filter", "daemon=proxy-off", "--concurrency", "1", "--baseline-only"];
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
if (!values["skip-matrix"]) {
  const { wallMs, cells } = await runOnce([]);
  const attempts = cells.reduce((n, c) => n + (c.baseline ? 1 : 0) + c.fixes.length, 0);
  console.log(`\ndefault matrix: ${cells.length} cells, ${attempts} host attempts, wall ${(wallMs / 1000).toFixed(1)} s`);
}
