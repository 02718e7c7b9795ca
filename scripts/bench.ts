// Side by side: one fwcompat attempt through the compiled CLI against the plain shell cell
// (bench/baseline-cell.sh, a hand-written script doing the same work), alternating, for a
// healthy and a broken cell; then CLI start-up and the default matrix's warm wall time in
// shell-cell units (wall ÷ the healthy shell cell's median), with per-phase medians and the
// VM attempts' hold on the dind slots. A full run of the default matrix records its output in
// docs/performance.json and the section of docs/performance.md generated from it.
// Usage: npm run bench [-- --repeat N] [--skip-matrix] [--matrix FILE] [--concurrency N,N...] [--json FILE] [--no-record]
//        [--keep-results DIR] (the matrix run's results stay there, e.g. for `npm run publish-report -- DIR`)
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { execa } from "execa";
import type { CellResult } from "../src/results/schema.js";
import { connectEngine } from "../src/harness/engine.js";
import { planImages, preparePlannedImages } from "../src/run/session/images.js";
import { loadMatrix } from "../src/run/session/matrix-file.js";
import { capabilitiesTheEngineLacks } from "../src/harness/capabilities.js";
import { describe, median, phaseMedians, ratio, targetLine, type Target } from "./bench/stats.js";
import { BENCH_RECORD_SCHEMA, renderRecord, samplesOf, withBenchSection, type BenchRecord } from "./bench/record.js";
import { attemptStarts, slotsFromLog, vmSlotHold } from "./bench/vm-hold.js";

const { values } = parseArgs({
  options: {
    repeat: { type: "string", default: "5" },
    "skip-matrix": { type: "boolean", default: false },
    "skip-pairs": { type: "boolean", default: false },
    "no-build": { type: "boolean", default: false },
    matrix: { type: "string", default: "matrix.yaml" },
    concurrency: { type: "string" },
    json: { type: "string" },
    /** keep the matrix run's results in this directory instead of a temporary one */
    "keep-results": { type: "string" },
    /** do not write docs/performance.json and its section of docs/performance.md */
    "no-record": { type: "boolean", default: false },
    /** the matrix's warm wall time before the change, seconds: prints the "≤ 50%" target */
    "matrix-before": { type: "string" },
    /** a VM attempt's median before the change, seconds: prints the "≤ 50%" target */
    "vm-before": { type: "string" },
  },
});
const repeat = Math.max(1, Number(values.repeat));
const CELLS = "bench/cells.yaml";
const PAIRS = [
  { key: "healthy", label: "healthy (1.8.13-1)", build: "1.8.13-1", status: "works", target: 1.3 },
  { key: "broken", label: "broken (1.8.11)", build: "1.8.11", status: "reproduced", target: 0.2 },
] as const;
/** the default matrix, warm, in shell-cell units */
const MATRIX_UNITS_TARGET = 120;
const RECORD_FILE = "docs/performance.json";
const RECORD_PAGE = "docs/performance.md";
const report: Record<string, unknown> = { machine: await machine(), repeat };
const targets: Target[] = [];
const measured: Partial<Pick<BenchRecord, "healthy" | "broken" | "matrix">> = {};

const fwcompat = (args: string[]) =>
  execa(process.execPath, ["bin/fwcompat.js", ...args], { reject: false, all: true });
const timed = async <T>(work: () => Promise<T>): Promise<[number, T]> => {
  const started = performance.now();
  const value = await work();
  return [performance.now() - started, value];
};

if (!values["no-build"]) {
  console.log("building dist/ (the bench times the compiled CLI, as installed)...");
  await execa("npm", ["run", "build", "--silent"], { stdio: "inherit" });
}

await startUp();
if (!values["skip-pairs"]) await pairs();
const levels = values.concurrency ? values.concurrency.split(",").map(Number) : [undefined];
if (!values["skip-matrix"]) for (const level of levels) await matrixRun(level);

console.log("\ntargets:");
for (const t of targets) console.log(`  ${targetLine(t)}`);
if (values.json) await writeFile(values.json, `${JSON.stringify({ ...report, targets }, null, 2)}\n`);
await record();

/** A full run of the default matrix is the bench's latest output: docs/performance.json and its section. */
async function record(): Promise<void> {
  const full =
    !values["skip-pairs"] && !values["skip-matrix"] && values.matrix === "matrix.yaml" && levels.length === 1;
  if (values["no-record"] || !full || !measured.healthy || !measured.broken) {
    console.log(`\nnot recorded in ${RECORD_FILE} (only a full run of matrix.yaml at one concurrency is)`);
    return;
  }
  const commit = (await execa("git", ["rev-parse", "--short", "HEAD"])).stdout.trim();
  const dirty = (await execa("git", ["status", "--porcelain", "--untracked-files=no"])).stdout.trim() !== "";
  const entry = BENCH_RECORD_SCHEMA.parse({
    measuredAt: new Date().toISOString(),
    commit: dirty ? `${commit} (with uncommitted changes)` : commit,
    machine: report.machine,
    ...measured,
  });
  await writeFile(RECORD_FILE, `${JSON.stringify(entry, null, 2)}\n`);
  await writeFile(RECORD_PAGE, withBenchSection(await readFile(RECORD_PAGE, "utf8"), renderRecord(entry)));
  console.log(`\nrecorded in ${RECORD_FILE} and ${RECORD_PAGE} (npm run format, then commit both)`);
}

async function startUp(): Promise<void> {
  const compiled: number[] = [];
  const viaTsx: number[] = [];
  for (let i = 0; i < 10; i++) compiled.push((await timed(() => fwcompat(["--help"])))[0]);
  for (let i = 0; i < 3; i++)
    viaTsx.push((await timed(() => execa(process.execPath, ["--import", "tsx", "src/cli/main.ts", "--help"])))[0]);
  console.log(
    `\nCLI start-up (fwcompat --help): compiled ${describe(compiled)} over 10 runs; through tsx ${describe(viaTsx)} over 3`,
  );
  report.startUp = { compiledMs: compiled, tsxMs: viaTsx };
  targets.push({ label: "fwcompat --help (compiled)", value: median(compiled) / 1000, atMost: 0.3, unit: "s" });
}

async function pairs(): Promise<void> {
  const hostTag = await benchHostImage();
  const capDrop = (await capabilitiesTheEngineLacks()).join(",");
  const shell = (build: string) =>
    execa("bash", ["bench/baseline-cell.sh", hostTag, build], { env: { FWC_CAP_DROP: capDrop }, all: true });
  for (const pair of PAIRS) {
    const attempt = async () => {
      const out = await mkdtemp(join(tmpdir(), "fwcompat-bench-"));
      try {
        const [ms, run] = await timed(() =>
          fwcompat([
            "run",
            "--matrix",
            CELLS,
            "--filter",
            `iptables=${pair.build}`,
            "--baseline-only",
            "--concurrency",
            "1",
            "--out",
            out,
          ]),
        );
        const [cell] = await cellsOf(out);
        if (run.exitCode !== 0 || cell?.status !== pair.status || !cell.baseline) {
          throw new Error(
            `the ${pair.label} cell read '${cell?.status}' (exit ${run.exitCode}), not '${pair.status}':\n${run.all?.slice(-1500)}`,
          );
        }
        return { ms, timings: cell.baseline.timingsMs };
      } finally {
        await rm(out, { recursive: true, force: true });
      }
    };
    console.log(`\n${pair.label}: warming up (one of each, not counted)...`);
    await shell(pair.build);
    await attempt();
    const shellMs: number[] = [];
    const harnessMs: number[] = [];
    const timings: Array<Record<string, number>> = [];
    let shellProbes = "";
    for (let i = 0; i < repeat; i++) {
      // alternate which goes first, so neither always runs on a machine the other just warmed
      const order = i % 2 === 0 ? ["shell", "fwcompat"] : ["fwcompat", "shell"];
      for (const which of order) {
        if (which === "shell") {
          const [ms, run] = await timed(() => shell(pair.build));
          shellMs.push(ms);
          shellProbes = run.stdout.trim();
        } else {
          const { ms, timings: t } = await attempt();
          harnessMs.push(ms);
          timings.push(t);
        }
      }
    }
    const r = ratio(harnessMs, shellMs);
    console.log(`  shell cell     ${describe(shellMs)}   [${shellProbes}]`);
    console.log(
      `  fwcompat run   ${describe(harnessMs)}   ratio ${r.toFixed(2)}× (medians, ${repeat} alternating runs each)`,
    );
    console.log(
      `  fwcompat phases (median): ${phaseMedians(timings)
        .map(([p, ms]) => `${p} ${(ms / 1000).toFixed(2)} s`)
        .join(", ")}`,
    );
    report[pair.build] = {
      shellMs,
      harnessMs,
      ratio: r,
      phases: Object.fromEntries(phaseMedians(timings).map(([p, ms]) => [p, ms])),
    };
    targets.push({ label: `${pair.label} attempt / shell cell`, value: r, atMost: pair.target, unit: "×" });
    measured[pair.key] = {
      build: pair.build,
      shellCell: samplesOf(shellMs, median(shellMs)),
      attempt: samplesOf(harnessMs, median(harnessMs)),
      ratio: r,
      atMost: pair.target,
      phasesMs: Object.fromEntries(phaseMedians(timings).map(([p, ms]) => [p, Math.round(ms)])),
    };
  }
}

async function matrixRun(concurrency: number | undefined): Promise<void> {
  const kept = values["keep-results"];
  const out = kept ?? (await mkdtemp(join(tmpdir(), "fwcompat-bench-")));
  const extra = concurrency === undefined ? [] : ["--concurrency", String(concurrency)];
  console.log(`\n${values.matrix}${extra.length ? ` at --concurrency ${concurrency}` : ""}: running (warm images)...`);
  const [ms, run] = await timed(() => fwcompat(["run", "--matrix", values.matrix, "--out", out, ...extra]));
  const cells = await cellsOf(out);
  if (!kept) await rm(out, { recursive: true, force: true });
  if (cells.length === 0)
    throw new Error(`the matrix run wrote no cells (exit ${run.exitCode}):\n${run.all?.slice(-1500)}`);
  const attempts = cells.flatMap((c) =>
    // a fix checked on a host an earlier fix of the chain already holds is no attempt of its own
    [c.baseline, ...c.fixes.map((f) => f.attempt)].flatMap((a) =>
      // and one not applicable to the cell as configured ran no host at all
      a && !a.chainedAfter?.length && Object.keys(a.timingsMs).length > 0
        ? [{ cell: c.cell.id, name: a.name, provider: c.cell.provider, timings: a.timingsMs }]
        : [],
    ),
  );
  // the evidence is read while the probes run: its time is inside theirs
  const attemptMs = (t: Record<string, number>) =>
    Object.entries(t).reduce((sum, [phase, x]) => (phase === "evidence" ? sum : sum + x), 0);
  const log = run.all ?? "";
  const level = /concurrency (\d+)/.exec(log)?.[1] ?? String(concurrency ?? "?");
  const errors = cells
    .filter((c) => c.status === "error")
    .map((c) => `${c.cell.id} (${(c.reason ?? "").split("\n")[0]?.slice(0, 160)})`);
  // fixes regression-checked together share one host: the first of them carries the host's set-up
  const together = cells.flatMap((c) => c.fixes.filter((f) => f.attempt.chainedAfter !== undefined));
  const hosts = attempts.length;
  const notRun = cells.reduce((n, c) => n + (c.fixesNotRun?.fixes.length ?? 0), 0);
  console.log(
    `  wall ${(ms / 1000).toFixed(1)} s: ${cells.length} cells, ${hosts} attempts (hosts)${together.length ? `, ${together.length} fixes regression-checked together` : ""}${notRun ? `, ${notRun} fixes not run (baseline works)` : ""}${errors.length ? `, ${errors.length} in error: ${errors.join(", ")}` : ""}`,
  );
  const phasesMs: Record<string, Record<string, number>> = {};
  const attemptMedianMs: Record<string, number> = {};
  for (const provider of ["dind", "vagrant"]) {
    const own = attempts.filter((a) => a.provider === provider).map((a) => a.timings);
    if (own.length === 0) continue;
    const total = own.map(attemptMs);
    phasesMs[provider] = Object.fromEntries(phaseMedians(own).map(([p, m]) => [p, Math.round(m)]));
    attemptMedianMs[provider] = Math.round(median(total));
    if (provider === "vagrant" && values["vm-before"])
      targets.push({
        label: `VM attempt (${values.matrix}, concurrency ${concurrency ?? "default"}) / before (${values["vm-before"]} s)`,
        value: median(total) / 1000 / Number(values["vm-before"]),
        atMost: 0.5,
        unit: "%",
      });
    console.log(
      `  ${provider} attempt: median ${(median(total) / 1000).toFixed(1)} s over ${own.length}; phases (median): ${phaseMedians(
        own,
      )
        .map(([p, m, n]) => `${p} ${(m / 1000).toFixed(1)} s${n < own.length ? ` (${n})` : ""}`)
        .join(", ")}`,
    );
  }
  if (values["matrix-before"])
    targets.push({
      label: `${values.matrix} wall (concurrency ${concurrency ?? "default"}) / before (${values["matrix-before"]} s)`,
      value: ms / 1000 / Number(values["matrix-before"]),
      atMost: 0.5,
      unit: "%",
    });
  const unitMs = measured.healthy?.shellCell.medianMs;
  const units = unitMs ? ms / unitMs : undefined;
  if (units !== undefined) {
    console.log(
      `  = ${units.toFixed(0)} shell-cell units (wall ÷ the healthy shell cell's ${(unitMs! / 1000).toFixed(2)} s)`,
    );
    targets.push({
      label: `${values.matrix} wall (concurrency ${level}) in shell-cell units`,
      value: units,
      atMost: MATRIX_UNITS_TARGET,
      unit: "units",
    });
  }
  const moves = [...log.matchAll(/concurrency (\d+) -> (\d+): CPU/g)].map((m) => Number(m[2]));
  if (moves.length)
    console.log(
      `  concurrency followed the CPU: ${level} -> ${moves.slice(0, 20).join(" -> ")}${moves.length > 20 ? " …" : ""} (${moves.length} moves, highest ${Math.max(...moves)}, lowest ${Math.min(...moves)})`,
    );
  const vmHold = vmHoldOf(log, attempts, attemptMs, ms);
  if (vmHold)
    console.log(
      `  VM attempts ran during ${(vmHold.heldMs / 1000).toFixed(1)} s of the wall (${((vmHold.heldMs / ms) * 100).toFixed(0)}%), each holding ${vmHold.slotsPerVm} of the ${vmHold.dindSlots} dind slots: ${(vmHold.slotShare * 100).toFixed(0)}% of the dind slots' capacity`,
    );
  if (units !== undefined)
    measured.matrix = {
      file: values.matrix,
      concurrency: concurrency === undefined ? `auto (${level})` : level,
      wallMs: Math.round(ms),
      units,
      atMostUnits: MATRIX_UNITS_TARGET,
      cells: cells.length,
      attempts: hosts,
      phasesMs,
      attemptMedianMs,
      ...(vmHold ? { vmHold } : {}),
    };
  const runs = (report.matrix ??= []) as unknown[];
  runs.push({
    file: values.matrix,
    concurrency: concurrency ?? "matrix default",
    wallMs: ms,
    cells: cells.length,
    attempts: attempts.length,
    errors,
    ...(units !== undefined ? { units } : {}),
    ...(vmHold ? { vmHold } : {}),
  });
}

/** How long the VM attempts held dind slots, from the run's log (when each started) and their timings. */
function vmHoldOf(
  log: string,
  attempts: ReadonlyArray<{ cell: string; name: string; provider: string; timings: Record<string, number> }>,
  attemptMs: (t: Record<string, number>) => number,
  wallMs: number,
) {
  const slots = slotsFromLog(log);
  const starts = attemptStarts(log);
  const vms = attempts.flatMap((a) => {
    const startS = starts.get(`${a.cell}|${a.name}`);
    return a.provider === "vagrant" && startS !== undefined
      ? [{ startMs: startS * 1000, endMs: startS * 1000 + attemptMs(a.timings) }]
      : [];
  });
  if (!slots || vms.length === 0) return undefined;
  return { ...vmSlotHold(vms, slots.dindSlots, slots.slotsPerVm, wallMs), ...slots };
}

async function cellsOf(out: string): Promise<CellResult[]> {
  const dir = join(out, "cells");
  const files = await readdir(dir).catch(() => [] as string[]);
  return Promise.all(files.map(async (f) => JSON.parse(await readFile(join(dir, f), "utf8")) as CellResult));
}

/** The host image fwcompat uses for the bench cells (the shell cell starts the same one). */
async function benchHostImage(): Promise<string> {
  const matrix = await loadMatrix(CELLS);
  const docker = connectEngine();
  const plan = await planImages(docker, matrix.engines, matrix.settings);
  const images = await preparePlannedImages(docker, plan, matrix.iptables, matrix.settings, () => {});
  const host = images.hosts.get("docker-28.5.2");
  if (!host?.ok) throw new Error("no host image for the bench cells");
  return host.tag;
}

async function machine(): Promise<string> {
  const { cpus, totalmem, release } = await import("node:os");
  return `${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, kernel ${release()}`;
}
