import { describe, expect, it } from "vitest";
import { SCENARIOS } from "../../scenarios/index.js";
import type { Cell } from "../../src/config/expand.js";
import { FIXES } from "../../src/fixes/index.js";
import { combineRepeats } from "../../src/results/repeats.js";
import type { AttemptResult } from "../../src/results/schema.js";
import { runAttempt } from "../../src/run/attempt.js";
import { assembleCell } from "../../src/run/cell-status.js";
import { FakeProvider, probeCommands, type FakeProviderOptions } from "../support/fake-host.js";
import { cellOf, healthy, matrix, peerWorld, world, type WorldOptions } from "../support/fake-world.js";
import { expectEvery } from "../support/quantifiers.js";

const scenario = SCENARIOS.get("curl-timeout");
if (!scenario) throw new Error("curl-timeout is not registered");

function provider(options: WorldOptions & Partial<FakeProviderOptions> = {}): FakeProvider {
  const fake: FakeProvider = new FakeProvider({
    host: () => world(options),
    peer: peerWorld((script) => fake.hostAt(script), options),
    ...options,
  });
  return fake;
}

async function attempt(
  fake: FakeProvider,
  cell: Cell,
  fixName?: string,
  attemptTimeoutMs = 30_000,
): Promise<AttemptResult> {
  const settings = { ...matrix().settings, attemptTimeoutMs };
  const builds = matrix().iptables;
  const fix = fixName ? FIXES.get(fixName) : undefined;
  if (fixName && !fix) throw new Error(`no fix ${fixName}`);
  return runAttempt({
    provider: fake,
    cell,
    settings,
    hostImage: "fake/host",
    builds,
    scenario: scenario as NonNullable<typeof scenario>,
    fix,
  });
}

const ranProbes = (fake: FakeProvider) =>
  fake.hosts.some((h) => h.commands.some((c) => probeCommands(c).size > 0)) || fake.peerCommands.length > 0;
const allDisposed = (fake: FakeProvider) => fake.hosts.length > 0 && fake.hosts.every((h) => h.disposed);

describe("an attempt's lifecycle (runAttempt on a scripted host)", () => {
  it("sets up, probes through the real parser, collects evidence, and tears down", async () => {
    const fake = provider();
    const result = await attempt(fake, cellOf("1.8.11"));
    expect(result.status).toBe("done");
    expect(result.evidence).toMatchObject({
      checkProbe: "buggy",
      iptablesVersion: "iptables v1.8.11 (nf_tables)",
      kernel: "6.1.0-fake-amd64",
      hostMode: "fake",
    });
    const external = result.probes.find((p) => p.vantage === "external" && p.target.startsWith("fwc-net1/"));
    expect(external).toMatchObject({ outcome: "timeout", pass: false });
    expect(result.probes.find((p) => p.vantage === "host-ip" && p.target.startsWith("fwc-net1/"))).toMatchObject({
      outcome: "ok",
      detail: "answered by n1c1",
    });
    expect(result.probes).toHaveLength(8);
    expect(result.steps.map((s) => s.name).slice(0, 3)).toEqual([
      "select iptables",
      "write daemon.json",
      "set ip_forward",
    ]);
    expect(Object.keys(result.timingsMs)).toEqual(
      expect.arrayContaining(["hostStart", "dockerdStart", "scenario", "probes", "teardown"]),
    );
    expect(allDisposed(fake)).toBe(true);
  });

  it("the -C probe's answer is the host's, not derived from the version both builds print", async () => {
    const buggy = await attempt(provider(), cellOf("1.8.11"));
    const fixed = await attempt(provider(), cellOf("1.8.11-2"));
    expect(buggy.evidence?.iptablesVersion).toBe(fixed.evidence?.iptablesVersion);
    expect([buggy.evidence?.checkProbe, fixed.evidence?.checkProbe]).toEqual(["buggy", "correct"]);
    const silent = await attempt(
      provider({
        rules: [
          {
            match: /^printf '%s=%s\\n' kernel /,
            answer: {
              stdout:
                "kernel=6.1\niptablesVersion=iptables v1.8.11 (nf_tables)\niptablesPackage=p\ndockerdVersion=d\ncheckProbe=error: cannot create chain\ncgroup=v1\n",
            },
          },
        ],
      }),
      cellOf("1.8.11"),
    );
    expect(silent.evidence?.checkProbe).toBe("error");
  });

  it("a deadline ends the attempt as an error with the deadline's message; the dockerd log is kept and the host still torn down", async () => {
    const fake = provider({ rules: [{ match: /^fwcompat-dockerd start$/, answer: { delayMs: 10_000 } }] });
    const started = Date.now();
    const result = await attempt(fake, cellOf("1.8.11-2"), undefined, 150);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(result).toMatchObject({ status: "error", reason: "attempt 'baseline' exceeded its 0.15s deadline" });
    expect(result.dockerdLog).toContain("API listen on");
    expect(result.timingsMs.teardown).toBeTypeOf("number");
    expect(allDisposed(fake)).toBe(true);
    expect(ranProbes(fake)).toBe(false);
  });

  it("a fix that does not apply is not-applicable with its reason, and nothing is probed", async () => {
    const proxyOn = provider();
    const already = await attempt(proxyOn, cellOf("1.8.11", "proxy-on"), "userland-proxy-on");
    expect(already).toMatchObject({
      name: "userland-proxy-on",
      status: "not-applicable",
      reason: "userland-proxy is already on",
      probes: [],
    });
    expect(ranProbes(proxyOn)).toBe(false);
    expect(allDisposed(proxyOn)).toBe(true);

    const newest = provider();
    const upgrade = await attempt(newest, cellOf("1.8.13-1"), "iptables-upgrade");
    expect(upgrade).toMatchObject({
      status: "not-applicable",
      reason: "no available build newer than 1.8.13-1",
      probes: [],
    });
    expect(ranProbes(newest)).toBe(false);
    expect(allDisposed(newest)).toBe(true);
  });

  it("a failing step is an error naming it, with the dockerd log tail kept, and the host torn down", async () => {
    const fake = provider({
      rules: [
        { match: /^fwcompat-dockerd start$/, answer: { exitCode: 1, stderr: "dockerd exited during start\n" } },
        {
          match: /^tail -n \d+ \/var\/log\/fwcompat-dockerd\.log/,
          answer: { stdout: "failed to start daemon: invalid daemon.json: no-such-daemon-option\n" },
        },
      ],
    });
    const result = await attempt(fake, cellOf("1.8.11-2"));
    expect(result.status).toBe("error");
    expect(result.reason).toBe("start dockerd failed (exit 1): dockerd exited during start");
    expect(result.dockerdLog).toContain("no-such-daemon-option");
    expect(ranProbes(fake)).toBe(false);
    expect(allDisposed(fake)).toBe(true);
  });

  it("facts the host did not report are an error, not values shifted into the wrong fields", async () => {
    const fake = provider({
      rules: [
        {
          match: /^printf '%s=%s\\n' kernel /,
          answer: { stdout: "kernel=6.1\niptablesVersion=iptables v1.8.11 (nf_tables)\n" },
        },
      ],
    });
    const result = await attempt(fake, cellOf("1.8.11"));
    expect(result).toMatchObject({
      status: "error",
      reason: "host facts: iptablesPackage missing, dockerdVersion missing, checkProbe missing, cgroup missing",
    });
    expect(allDisposed(fake)).toBe(true);
  });

  it("the host is torn down even when the peer cannot be had; a host that never started needs no teardown", async () => {
    const noPeer = provider({ peerError: new Error("peer container failed to start") });
    expect(await attempt(noPeer, cellOf("1.8.11-2"))).toMatchObject({
      status: "error",
      reason: "peer container failed to start",
    });
    expect(allDisposed(noPeer)).toBe(true);

    const noHost = provider({ startError: new Error("host not ready within 20s") });
    const result = await attempt(noHost, cellOf("1.8.11-2"));
    expect(result).toMatchObject({ status: "error", reason: "host not ready within 20s" });
    expect(result.timingsMs.teardown).toBeUndefined();
  });
});

describe("a cell's status and fix verdicts come from probes", () => {
  const run = async (iptables: string, fixes: string[], options: WorldOptions = {}) => {
    const cell = cellOf(iptables);
    const fake = provider(options);
    const baseline = await attempt(fake, cell);
    const fixAttempts = [];
    for (const fix of fixes) fixAttempts.push(await attempt(fake, cell, fix));
    return { result: assembleCell("run", cell, new Date(), baseline, fixAttempts), fake };
  };

  it("reproduced where probes failed, works where none did", async () => {
    const buggy = (await run("1.8.11", [])).result;
    expect(buggy.status).toBe("reproduced");
    expect(buggy.brokenVantages.sort()).toEqual(["external", "localhost"]);
    const fixed = (await run("1.8.11-2", [])).result;
    expect(fixed).toMatchObject({ status: "works", brokenVantages: [] });
  });

  it("the same build is judged by its traffic, not by its version", async () => {
    const quiet = (await run("1.8.11", [], { traffic: healthy })).result;
    expect(quiet.status).toBe("works");
    const lossy = (
      await run("1.8.13-1", [], {
        traffic: (p) =>
          p.vantage === "peer" ? { exit: 56, stderr: "curl: (56) Recv failure: Connection reset by peer" } : healthy(p),
      })
    ).result;
    expect(lossy).toMatchObject({ status: "reproduced", brokenVantages: ["external"] });
    expectEvery(
      lossy.baseline?.probes.filter((p) => p.vantage === "external"),
      (p) => p.outcome === "reset",
    );
  });

  it("a baseline that errored makes the cell an error, with the baseline's reason", async () => {
    const { result } = await run("1.8.11-2", [], {
      rules: [{ match: /^fwcompat-workload-image$/, answer: { exitCode: 2, stderr: "docker import failed" } }],
    });
    expect(result).toMatchObject({
      status: "error",
      reason: "import workload image failed (exit 2): docker import failed",
      brokenVantages: [],
    });
  });

  it("each fix switches the host to its own target build and is judged per vantage", async () => {
    const { result, fake } = await run("1.8.11", ["iptables-upgrade", "iptables-downgrade", "userland-proxy-on"]);
    const verdict = (fix: string) => result.fixes.find((f) => f.verdict.fix === fix);
    expect(verdict("iptables-upgrade")?.verdict).toMatchObject({
      overall: "repaired",
      vantages: { external: "repaired", localhost: "repaired", "host-ip": "ok" },
    });
    expect(verdict("iptables-upgrade")?.attempt.fixNote).toBe(
      "iptables 1.8.11 (nft) -> 1.8.13-1 (nft), then dockerd restarted",
    );
    expect(verdict("iptables-downgrade")?.attempt.fixNote).toBe(
      "iptables 1.8.11 (nft) -> 1.8.10 (nft), then dockerd restarted",
    );
    expect(verdict("iptables-downgrade")?.verdict.overall).toBe("repaired");
    expect(verdict("userland-proxy-on")?.verdict).toMatchObject({
      overall: "partial",
      vantages: { localhost: "repaired", external: "still-broken" },
    });
    const [, upgradeHost] = fake.hosts;
    expect(upgradeHost?.commands).toEqual(
      expect.arrayContaining(["fwcompat-select-iptables 1.8.13-1 nft", "fwcompat-dockerd restart"]),
    );
    expect(upgradeHost?.state.get("iptables")).toBe("1.8.13-1");
  });

  it("a fix that does not apply gets a not-applicable verdict, never one on traffic", async () => {
    const { result } = await run("1.8.13-1", ["iptables-upgrade"]);
    expect(result.fixes[0]?.verdict).toEqual({
      fix: "iptables-upgrade",
      vantages: {},
      overall: "not-applicable",
      restoredRules: undefined,
    });
  });
});

describe("repeats of a cell (combineRepeats)", () => {
  const repeat = async (traffic: WorldOptions["traffic"]) => {
    const cell = cellOf("1.8.11-2");
    return assembleCell("run", cell, new Date(), await attempt(provider({ traffic }), cell), []);
  };

  it("repeats that disagree make the cell flaky and keep every distinct verdict with its count", async () => {
    const flap = (p: Parameters<NonNullable<WorldOptions["traffic"]>>[0]) =>
      p.vantage === "peer" ? { exit: 28, stderr: "curl: (28) Connection timed out" } : healthy(p);
    const results = [await repeat(flap), await repeat(healthy), await repeat(flap)];
    const combined = combineRepeats(results);
    expect(combined.status).toBe("flaky");
    expect(combined.reason).toBe("2 different verdicts in 3 repeats");
    expect(combined.repeats?.count).toBe(3);
    expect(combined.repeats?.agreeing).toBe(2);
    expect(combined.repeats?.outcomes.map((o) => [o.verdict.split(";")[0], o.count])).toEqual([
      ["status=reproduced", 2],
      ["status=works", 1],
    ]);
    expect(combined.durationMs).toBe(results.reduce((sum, r) => sum + r.durationMs, 0));
  });

  it("repeats that agree keep the status, even when timings and failure kinds differ", async () => {
    const timeout = (p: Parameters<NonNullable<WorldOptions["traffic"]>>[0]) =>
      p.vantage === "peer" ? { exit: 28, stderr: "timed out", ms: 3001 } : healthy(p);
    const refused = (p: Parameters<NonNullable<WorldOptions["traffic"]>>[0]) =>
      p.vantage === "peer" ? { exit: 7, stderr: "Connection refused", ms: 2 } : healthy(p);
    const combined = combineRepeats([await repeat(timeout), await repeat(refused)]);
    expect(combined.status).toBe("reproduced");
    expect(combined.repeats).toMatchObject({ count: 2, agreeing: 2 });
    expect(combined.repeats?.outcomes).toHaveLength(1);
  });
});
