import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type Docker from "dockerode";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { expandMatrix, makeCell, type Cell } from "../../src/config/expand.js";
import type { CellResult } from "../../src/results/schema.js";
import { runAndRecord, type RecordedRunRequest } from "../../src/run/session/run-and-record.js";
import { RunSession, type SessionEngine } from "../../src/run/session/session.js";
import { FakeProvider } from "../support/fake-host.js";
import { cellOf, matrix, peerWorld, preparedImages, world } from "../support/fake-world.js";

/** A session's engine with scripted hosts: what it was asked is recorded in `calls`. */
const FAKE_MACHINE = {
  kernel: "6.1.0-fake",
  cores: 3,
  memoryGiB: 7,
  cgroup: "v2",
  outerEngine: "99.0.0 (API 1.99)",
} as const;

function fakeEngine() {
  const fake: FakeProvider = new FakeProvider({ host: () => world(), peer: peerWorld((s) => fake.hostAt(s)) });
  const calls: string[] = [];
  const leftovers = { containers: 2, networks: 1, volumes: 0 };
  const engine: SessionEngine = {
    assertReachable: async () => calls.push("reachable"),
    planImages: async (engines) => {
      calls.push(`plan ${engines.map((e) => e.name).join(",")}`);
      return {
        engines: [...engines],
        basePlans: [],
        mirror: "http://mirror.invalid/debian",
        summary: "base images: fake",
      };
    },
    sweep: async (runId) => {
      calls.push(`sweep ${runId ?? "leftovers"}`);
      return runId ? { containers: 0, networks: 0, volumes: 0 } : leftovers;
    },
    machine: async () => FAKE_MACHINE,
    sweepVms: async (runId) => {
      calls.push(`sweep VMs ${runId ?? "leftovers"}`);
      return 0;
    },
    run: { prepareImages: async () => preparedImages(), dindProvider: () => fake },
  };
  return { engine, fake, calls };
}

let out: string;
beforeEach(async () => {
  out = await mkdtemp(join(tmpdir(), "fwcompat-session-"));
});
afterEach(async () => {
  await rm(out, { recursive: true, force: true });
});

const request = (cells: Cell[], more: Partial<RecordedRunRequest> = {}): RecordedRunRequest => ({
  matrix: matrix(),
  matrixFile: "test-matrix.yaml",
  cells,
  filters: [],
  out,
  resume: undefined,
  seed: "unit-seed",
  concurrency: 2,
  repeat: 1,
  baselineOnly: true,
  ...more,
});

const MACHINE = { cores: 2, freeMemBytes: 8 * 2 ** 30 };
const readJson = async (file: string) => JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>;

describe("runAndRecord: a recorded run of chosen cells", () => {
  it("records run.json as running while the cells run and finished after, each cell as it ends, and the summary", async () => {
    const { engine, fake } = fakeEngine();
    const statesWhileRunning: unknown[] = [];
    engine.run = {
      ...engine.run,
      prepareImages: async () => (
        statesWhileRunning.push((await readJson(join(out, "run.json"))).state),
        preparedImages()
      ),
      dindProvider: () => fake,
    };
    const lines: string[] = [];
    const outcome = await runAndRecord(
      {} as Docker,
      request([cellOf("1.8.11")], { filters: ["iptables=1.8.11"] }),
      { log: (l) => lines.push(l), registerCleanup: () => {} },
      engine,
      MACHINE,
    );

    expect(statesWhileRunning).toEqual(["running"]);
    const runJson = await readJson(join(out, "run.json"));
    expect(runJson).toMatchObject({
      matrixFile: "test-matrix.yaml",
      filters: ["iptables=1.8.11"],
      repeat: 1,
      seed: "unit-seed",
      cells: 1,
      resumed: 0,
      state: "finished",
      machine: FAKE_MACHINE,
    });
    expect(runJson.wallMs).toEqual(expect.any(Number));
    expect(await readdir(join(out, "cells"))).toEqual([`${cellOf("1.8.11").id}.json`]);
    expect(await readFile(join(out, "summary.md"), "utf8")).toBe(`${outcome.summary}\n`);
    expect(outcome.results.map((r) => r.status)).toEqual(["reproduced"]);
    expect(outcome.outDir).toBe(out);
    expect(lines).toContain("swept 2 containers, 1 networks and 0 VMs left by killed runs");
    expect(
      lines.some((l) =>
        l.startsWith(
          `run ${String(runJson.runId)}: 1 cell(s), concurrency 2, probe-order seed unit-seed, results in ${out}`,
        ),
      ),
    ).toBe(true);
  });

  it("runs exactly the cells it is given, as gate hands them over: no filter strings, no matrix re-expanded", async () => {
    const { engine, fake } = fakeEngine();
    const chosen = [cellOf("1.8.11-2", "proxy-on"), cellOf("1.8.13-1")];
    const outcome = await runAndRecord(
      {} as Docker,
      request(chosen),
      { log: () => {}, registerCleanup: () => {} },
      engine,
      MACHINE,
    );
    expect(outcome.results.map((r) => r.cell.id)).toEqual(chosen.map((c) => c.id));
    expect((await readdir(join(out, "cells"))).sort()).toEqual(chosen.map((c) => `${c.id}.json`).sort());
    expect(fake.hosts).toHaveLength(2);
  });

  it("--resume: skips the cells the earlier run finished, keeps its seed, and counts them in run.json", async () => {
    const first = fakeEngine();
    const earlier = await runAndRecord(
      {} as Docker,
      request([cellOf("1.8.11")], { seed: "first-seed" }),
      { log: () => {}, registerCleanup: () => {} },
      first.engine,
      MACHINE,
    );
    expect(first.fake.hosts).toHaveLength(1);

    const again = fakeEngine();
    const both = [cellOf("1.8.11"), cellOf("1.8.13-1")];
    const resumed = await runAndRecord(
      {} as Docker,
      request(both, { resume: out, seed: undefined }),
      { log: () => {}, registerCleanup: () => {} },
      again.engine,
      MACHINE,
    );
    expect(again.fake.hosts).toHaveLength(1);
    expect(resumed.results[0]).toEqual(earlier.results[0] as CellResult);
    expect(resumed.results[1]?.cell.id).toBe(cellOf("1.8.13-1").id);
    expect(await readJson(join(out, "run.json"))).toMatchObject({
      seed: "first-seed",
      cells: 2,
      resumed: 1,
      state: "finished",
    });
  });

  it("hands the cleanup registrar a closer that closes the run's providers and sweeps only its own run", async () => {
    const { engine, fake, calls } = fakeEngine();
    const closers: Array<() => Promise<unknown>> = [];
    await runAndRecord(
      {} as Docker,
      request([cellOf("1.8.11")]),
      { log: () => {}, registerCleanup: (closer) => closers.push(closer) },
      engine,
      MACHINE,
    );
    const { runId } = (await readJson(join(out, "run.json"))) as { runId: string };
    expect(closers).toHaveLength(1);
    calls.length = 0;
    fake.closed = false;
    await closers[0]?.();
    expect(fake.closed).toBe(true);
    expect(calls).toEqual([`sweep ${runId}`, `sweep VMs ${runId}`, `sweep ${runId}`]);
  });

  it("checks the output directory before it asks anything of the engine", async () => {
    const { engine, calls } = fakeEngine();
    await expect(
      runAndRecord(
        {} as Docker,
        request([cellOf("1.8.11")], { resume: join(out, "nowhere") }),
        { log: () => {}, registerCleanup: () => {} },
        engine,
        MACHINE,
      ),
    ).rejects.toThrow(/--resume .*nowhere: no such directory/);
    expect(calls).toEqual([]);
  });
});

describe("RunSession", () => {
  it("plans the images of the engines it is opened with, and runs a cell on builds of its own (as bisect --by traffic does)", async () => {
    const { engine, fake, calls } = fakeEngine();
    const m = matrix();
    const session = await RunSession.open(
      { docker: {} as Docker, matrix: m, engines: m.engines, runId: "unit", registerCleanup: () => {} },
      engine,
    );
    const build = m.iptables.find((b) => b.name === "1.8.11");
    if (!build) throw new Error("the test matrix has no 1.8.11");
    const cell = makeCell({
      ...cellOf("1.8.11"),
      scenario: "curl-timeout",
      provider: "dind",
      iptables: build,
      fixes: [],
    });
    const { results } = await session.runCells([cell], {
      builds: [build],
      concurrency: 1,
      repeat: 1,
      baselineOnly: true,
      log: () => {},
      onCell: async () => {},
    });
    await session.close();
    expect(results.map((r) => [r.cell.id, r.status])).toEqual([[cell.id, "reproduced"]]);
    expect(fake.hosts).toHaveLength(1);
    expect(calls).toEqual(["reachable", "plan docker-28.5.2", "sweep unit"]);
  });

  it("makeCell gives a cell the id the matrix expansion gives it", () => {
    const expanded = expandMatrix(matrix()).find((c) => c.iptables.name === "1.8.13-1" && c.daemon.name === "proxy-on");
    if (!expanded) throw new Error("the test matrix has no 1.8.13-1 proxy-on cell");
    const made = makeCell({
      ...expanded,
      scenario: expanded.variant ? `${expanded.scenario}:${expanded.variant}` : expanded.scenario,
    });
    expect(made).toEqual(expanded);
  });
});
