import { describe, expect, it } from "vitest";
import type { ScenarioContext } from "../../src/api/scenario.js";
import type { ProbeSpec } from "../../src/assertions/probe.js";
import { runProbes } from "../../src/run/probe-run.js";
import { FakeHost, probeBatch, timedOut, type ProbeReply } from "../support/fake-host.js";
import { matrix } from "../support/fake-world.js";

const save = (packets: number) =>
  `*raw\n[${packets}:0] -A PREROUTING -d 10.78.0.20/32 ! -i br-0a1b -j DROP\n[${packets}:0] -A PREROUTING -d 10.78.0.2/32 ! -i br-0a1b -j DROP\nCOMMIT\n*filter\n:FORWARD DROP [0:0]\n[${packets}:${packets * 60}] -A DOCKER-ISOLATION-STAGE-2 -o br-0a1b -j DROP\nCOMMIT\n@@nft@@\n`;

/** A host whose isolation rule counts `dropsPerRound` packets each time blocked probes run; probes answer from `reply`. */
function context(
  reply: (command: string) => ProbeReply,
  dropsPerRound: number,
): { ctx: ScenarioContext; host: FakeHost } {
  let packets = 10;
  const host = new FakeHost(
    "h",
    "192.0.2.9",
    { image: "i", label: "l" },
    [
      {
        match: /iptables-save" -c/,
        answer: () => ({ stdout: save(packets) }),
      },
      {
        ...probeBatch((command) => {
          if (/nsenter/.test(command)) packets += dropsPerRound;
          return reply(command);
        }),
      },
    ],
    {},
  );
  const ctx = {
    host,
    peer: { sh: (script: string) => host.sh(script) },
    settings: { ...matrix().settings, probeTimeoutMs: 3000, blockedProbeTimeoutMs: 500 },
    steps: [],
    targets: [],
  } as unknown as ScenarioContext;
  return { ctx, host };
}

const specs: ProbeSpec[] = [
  {
    vantage: "localhost",
    target: "bridge/n0c1 :8080",
    command: (ms) => `curl -sS -m ${ms / 1000} http://127.0.0.1:8080/cgi-bin/id`,
    expectAnswer: "n0c1",
    expect: "reachable",
  },
  {
    vantage: "cross-network",
    target: "bridge/n0c1 -> fwc-net1/n1c1 10.78.0.2:80",
    command: (ms) => `nsenter -n -t 42 curl -sS -m ${ms / 1000} http://10.78.0.2/cgi-bin/id`,
    expect: "blocked",
  },
];
const reply = (command: string): ProbeReply =>
  /nsenter/.test(command) ? { ...timedOut, ms: /-m 0.5 /.test(command) ? 500 : 3000 } : { exit: 0, body: "n0c1" };

describe("probes expected to be blocked: a short timeout, backed by drop counters", () => {
  it("accepts a short timeout when a drop rule counted the probe's packets, and names the rule", async () => {
    const { ctx, host } = context(reply, 2);
    const run = await runProbes(ctx, () => specs, "s", 0);
    expect(run.results.map((r) => [r.vantage, r.outcome, r.pass])).toEqual([
      ["localhost", "ok", true],
      ["cross-network", "timeout", true],
    ]);
    // the rule naming the probe's own destination first (10.78.0.2, not 10.78.0.20)
    expect(run.results[1]?.detail).toMatch(
      /6 packet\(s\) dropped while the blocked probes ran: raw -A PREROUTING -d 10\.78\.0\.2\/32 ! -i br-0a1b -j DROP \(\+2\); /,
    );
    expect(host.commands.filter((c) => /nsenter/.test(c)).map((c) => /-m ([\d.]+)/.exec(c)?.[1])).toEqual(["0.5"]);
  });

  it("probes again with the full timeout when no drop counter moved, so a short timeout never passes for blocked by accident", async () => {
    const { ctx, host } = context(reply, 0);
    const run = await runProbes(ctx, () => specs, "s", 0);
    expect(run.results[1]).toMatchObject({ outcome: "timeout", pass: true, ms: 3000 });
    expect(run.results[1]?.detail).toMatch(/no drop counter moved: probed again with 3000 ms/);
    expect(host.commands.filter((c) => /nsenter/.test(c)).map((c) => /-m ([\d.]+)/.exec(c)?.[1])).toEqual(["0.5", "3"]);
  });

  it("a blocked probe that answers is a failure at once (no second chance)", async () => {
    const { ctx } = context((command) => ({ exit: 0, body: /nsenter/.test(command) ? "n1c1" : "n0c1" }), 0);
    const run = await runProbes(ctx, () => specs, "s", 0);
    expect(run.results[1]).toMatchObject({ outcome: "ok", pass: false });
  });

  it("starts the probes that must answer as soon as the counters vouched for every blocked probe, not after their timeout", async () => {
    const { ctx, host } = context(reply, 1);
    await runProbes(ctx, () => specs, "s", 0);
    const deciding = ctx.steps.map((s) => s.name).filter((n) => /drop counters/.test(n));
    expect(deciding).toEqual([
      "drop counters before the blocked probes",
      "drop counters once the blocked probes' packets were dropped",
    ]);
    const lastReading = host.commands.map((c) => /iptables-save" -c/.test(c)).lastIndexOf(true);
    expect(host.commands.findIndex((c) => /127\.0\.0\.1:8080/.test(c))).toBeGreaterThan(lastReading);
  });

  it("holds the probes that must answer back until the blocked probes ended when the counters did not vouch (their packets could be counted for the blocked ones)", async () => {
    const { ctx, host } = context(reply, 0);
    await runProbes(ctx, () => specs, "s", 0);
    expect(ctx.steps.map((s) => s.name).filter((n) => /drop counters/.test(n))).toEqual([
      "drop counters before the blocked probes",
      "drop counters after the blocked probes",
    ]);
    const afterReading = host.commands.map((c) => /iptables-save" -c/.test(c)).lastIndexOf(true);
    const answering = host.commands.findIndex((c) => /127\.0\.0\.1:8080/.test(c));
    expect(answering).toBeGreaterThan(afterReading);
    expect(afterReading).toBeGreaterThan(host.commands.findIndex((c) => /nsenter/.test(c)));
  });
});

describe("a host slower than native (a VM under software emulation)", () => {
  it("multiplies every probe's timeout by the host's slowdown, the short one for blocked probes too", async () => {
    const { ctx, host } = context(
      (command) =>
        /nsenter/.test(command)
          ? { ...timedOut, ms: /-m 1.5 /.test(command) ? 1500 : 9000 }
          : { exit: 0, body: "n0c1" },
      0,
    );
    const slow = { ...ctx, host: Object.assign(Object.create(host) as FakeHost, { slowdown: 3 }) } as ScenarioContext;
    const run = await runProbes(slow, () => specs, "s", 0);
    expect(host.commands.filter((c) => /127\.0\.0\.1:8080/.test(c)).map((c) => /-m ([\d.]+)/.exec(c)?.[1])).toEqual([
      "9",
    ]);
    expect(host.commands.filter((c) => /nsenter/.test(c)).map((c) => /-m ([\d.]+)/.exec(c)?.[1])).toEqual(["1.5", "9"]);
    expect(run.results[1]?.detail).toMatch(/no drop counter moved: probed again with 9000 ms/);
  });
});
