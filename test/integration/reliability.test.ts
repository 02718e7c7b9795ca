import { randomUUID } from "node:crypto";
import { readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { connect, createServer, type Socket } from "node:net";
import { containersCreatedBy, labelledContainers, leftovers, runCli, startRun, waitFor } from "../support/cli.js";
import { readCells as resultsIn } from "../support/results.js";
import { scratchDir } from "../support/scratch.js";
import { WARM_RUN_MS, WARM_RUN_TEST_MS } from "../support/timeouts.js";

const outDir = () => scratchDir("fwcompat-rel-");
const INTEGRATION = ["--matrix", "test/fixtures/matrices/integration.yaml"];
const BROKEN = ["--matrix", "test/fixtures/matrices/broken-daemon.yaml"];

describe("deterministic verdicts", () => {
  it(
    "three repeats of a small real matrix agree on every verdict",
    async () => {
      const out = await outDir();
      const run = await runCli(
        ["run", ...INTEGRATION, "--filter", "scenario=curl-timeout", "--baseline-only", "--repeat", "3", "--out", out],
        { timeoutMs: WARM_RUN_MS },
      );
      expect(run.exitCode, run.stderr.slice(-2000)).toBe(0);
      const results = await resultsIn(out);
      expect(results).toHaveLength(2);
      for (const result of results) {
        expect(result.repeats).toMatchObject({ count: 3, agreeing: 3 });
        expect(result.repeats?.outcomes).toHaveLength(1);
      }
      expect(results.map((r) => [r.cell.iptables, r.status]).sort()).toEqual([
        ["1.8.11", "reproduced"],
        ["1.8.11-2", "works"],
      ]);
    },
    WARM_RUN_TEST_MS,
  );
});

describe("one broken cell never sinks the others", () => {
  it("a dockerd that cannot start ends its cell as error with the reason and logs; the rest completes; --resume re-runs only it", async () => {
    const out = await outDir();
    const run = await runCli(["run", ...BROKEN, "--out", out], { timeoutMs: 10 * 60_000 });
    expect(run.exitCode).toBe(1);
    const results = await resultsIn(out);
    const broken = results.find((r) => r.cell.daemon === "broken");
    const healthy = results.find((r) => r.cell.daemon === "proxy-off");
    expect(healthy?.status).toBe("works");
    expect(broken?.status).toBe("error");
    expect(broken?.reason).toMatch(/start dockerd failed .*dockerd exited during start/s);
    expect(broken?.baseline?.dockerdLog).toMatch(/no-such-daemon-option/);

    const resumed = await runCli(["run", ...BROKEN, "--resume", out], { timeoutMs: 10 * 60_000 });
    expect(resumed.stderr).toMatch(/2 cell\(s\) \(1 already finished\)/);
    const after = await resultsIn(out);
    expect(after.find((r) => r.cell.daemon === "proxy-off")?.startedAt).toBe(healthy?.startedAt);
    expect(after.find((r) => r.cell.daemon === "broken")?.startedAt).not.toBe(broken?.startedAt);
    await rm(out, { recursive: true, force: true });
  }, 1_300_000);
});

describe("two runs at once on one engine", () => {
  it(
    "never collide: both finish with their own results",
    async () => {
      const [outA, outB] = [await outDir(), await outDir()];
      const [a, b] = await Promise.all([
        runCli(["run", ...INTEGRATION, "--filter", "scenario=curl-timeout", "--baseline-only", "--out", outA], {
          timeoutMs: WARM_RUN_MS,
        }),
        runCli(["run", ...INTEGRATION, "--filter", "scenario=curl-timeout", "--baseline-only", "--out", outB], {
          timeoutMs: WARM_RUN_MS,
        }),
      ]);
      expect(a.exitCode, a.stderr.slice(-1500)).toBe(0);
      expect(b.exitCode, b.stderr.slice(-1500)).toBe(0);
      for (const out of [outA, outB]) {
        const statuses = (await resultsIn(out)).map((r) => `${r.cell.iptables}=${r.status}`).sort();
        expect(statuses).toEqual(["1.8.11-2=works", "1.8.11=reproduced"]);
      }
      const runIds = await Promise.all(
        [outA, outB].map(async (out) => JSON.parse(await readFile(join(out, "run.json"), "utf8")).runId as string),
      );
      expect(runIds[0]).toMatch(/^\d{14}-[0-9a-f]{6}$/);
      expect(runIds[1]).toMatch(/^\d{14}-[0-9a-f]{6}$/);
      expect(runIds[0]).not.toBe(runIds[1]);
      for (const runId of runIds) expect(await leftovers(runId)).toEqual({ containers: 0, networks: 0, volumes: 0 });
      for (const out of [outA, outB]) {
        for (const result of await resultsIn(out)) expect(result.runId).toBe(runIds[[outA, outB].indexOf(out)]);
      }
    },
    WARM_RUN_TEST_MS,
  );
});

describe("environment errors are explained fast", () => {
  const quick = async (args: string[], env: Record<string, string>) => {
    const started = Date.now();
    const child = runCli(args, { timeoutMs: 30_000, env });
    const run = await child;
    return { ...run, pid: child.pid, ms: Date.now() - started };
  };

  it("an engine that refuses connections", async () => {
    const run = await quick(["run"], { DOCKER_HOST: "tcp://127.0.0.1:1" });
    expect(run.exitCode).toBe(2);
    expect(run.stderr.trim()).toBe(
      "fwcompat: no Docker engine at tcp://127.0.0.1:1 (ECONNREFUSED); start dockerd (see README: .ci/run does it) or set DOCKER_HOST",
    );
    expect(run.ms).toBeLessThan(5000);
  });

  it("debootstrap missing when a base image must be built", async () => {
    // a mirror no run has built a base from, so no cached base stands in (other tests leave bases on the engine):
    // the first suite the matrix plans (trixie, for its iptables builds) already needs debootstrap
    const run = await quick(["run", "--matrix", "test/fixtures/matrices/bookworm-engine.yaml"], {
      PATH: "/usr/local/bin:/usr/bin:/bin",
      FWCOMPAT_DEBIAN_MIRROR: `http://127.0.0.1:9/never-built-${randomUUID()}`,
    });
    expect(run.exitCode, run.stderr).toBe(2);
    expect(run.stderr).toMatch(
      /^fwcompat: debootstrap is needed to build base images for trixie .*install it: apt-get install -y debootstrap$/,
    );
    expect(run.ms).toBeLessThan(5000);
    expect(await containersCreatedBy(run.pid)).toBe(0);
  });
});

/**
 * Stands between a run and the engine: a unix socket that forwards to the real one. Closing
 * it is the engine going away for that run only; the machine's engine and other runs on it
 * carry on.
 */
async function engineDoor(path: string): Promise<{ close(): Promise<void> }> {
  const open = new Set<Socket>();
  const server = createServer((client) => {
    const engine = connect("/var/run/docker.sock");
    open.add(client).add(engine);
    const drop = () => {
      client.destroy();
      engine.destroy();
    };
    for (const end of [client, engine]) end.on("error", drop).on("close", drop);
    client.pipe(engine).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of open) s.destroy();
      }),
  };
}

describe("the engine going away mid-run", () => {
  it("each unfinished cell says so in plain words, finished cells stay on disk, --resume completes the rest", async () => {
    const socket = join(await outDir(), "engine.sock");
    const env = { DOCKER_HOST: `unix://${socket}` };
    let door = await engineDoor(socket);
    const out = await outDir();
    const args = ["run", ...INTEGRATION, "--filter", "scenario=curl-timeout", "--baseline-only", "--concurrency", "1"];
    const run = startRun([...args, "--out", out], env);
    const runId = await run.runId;
    const finishedFiles = async () =>
      (await readdir(join(out, "cells")).catch(() => [] as string[])).filter((f) => f.endsWith(".json"));
    // the first cell is on disk and the second one's host is up (beside the run's peer)
    await waitFor(
      async () => (await finishedFiles()).length === 1 && (await labelledContainers(runId)) >= 2,
      600_000,
      "the second cell's host",
    );
    await door.close();
    const ended = await run.child;
    expect(ended.exitCode, run.output().slice(-2000)).toBe(1);

    const results = await resultsIn(out);
    expect(results).toHaveLength(2);
    const finished = results.filter((r) => r.status !== "error");
    const unfinished = results.filter((r) => r.status === "error");
    expect(finished).toHaveLength(1);
    expect(unfinished).toHaveLength(1);
    expect(unfinished[0]?.reason).toMatch(
      new RegExp(`^the Docker engine went away: ENOENT connect ENOENT ${socket.replace(/[.]/g, "\\.")}`),
    );
    expect(run.output()).toMatch(/: error$/m);

    door = await engineDoor(socket);
    try {
      const resumed = await runCli([...args, "--resume", out], { timeoutMs: 10 * 60_000, env });
      expect(resumed.exitCode, resumed.stderr.slice(-2000)).toBe(0);
      expect(resumed.stderr).toMatch(/2 cell\(s\) \(1 already finished\)/);
      const after = await resultsIn(out);
      expect(after.map((r) => `${r.cell.iptables}=${r.status}`).sort()).toEqual([
        "1.8.11-2=works",
        "1.8.11=reproduced",
      ]);
      expect(after.find((r) => r.cell.id === finished[0]?.cell.id)?.startedAt).toBe(finished[0]?.startedAt);
      // the resumed run swept what the first one could not remove once its engine was gone
      expect(await leftovers(runId)).toEqual({ containers: 0, networks: 0, volumes: 0 });
    } finally {
      await door.close();
      await rm(out, { recursive: true, force: true });
    }
  }, 1_300_000);
});
