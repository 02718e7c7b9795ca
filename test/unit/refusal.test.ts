import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { SCENARIOS } from "../../scenarios/index.js";
import type { Cell } from "../../src/config/expand.js";
import { FIXES } from "../../src/fixes/index.js";
import type { AttemptResult } from "../../src/results/schema.js";
import { runAttempt } from "../../src/run/attempt.js";
import { assembleCell } from "../../src/run/cell-status.js";
import { FakeProvider, type Rule } from "../support/fake-host.js";
import { cellOf, matrix, peerWorld, world } from "../support/fake-world.js";
import { expectEvery } from "../support/quantifiers.js";

// What fwcompat-dockerd printed on a real Docker 29.7.2 host whose nftables backend found forwarding off.
const DOCKERD_START = readFileSync(
  new URL("../fixtures/dockerd/docker-29.7.2_nftables_ip-forward-0_start.txt", import.meta.url),
  "utf8",
);
const NETWORK_CREATE =
  "Error response from daemon: IPv4 forwarding is disabled: check your host's firewalling and set sysctl net.ipv4.ip_forward=1, or disable this check using daemon option --ip-forward=false\n";

const scenario = SCENARIOS.get("curl-timeout");
if (!scenario) throw new Error("curl-timeout is not registered");

function provider(rules: Rule[]): FakeProvider {
  const fake: FakeProvider = new FakeProvider({
    host: () => [...rules, ...world()],
    peer: peerWorld((script) => fake.hostAt(script)),
  });
  return fake;
}
const attempt = (fake: FakeProvider, cell: Cell, fixName?: string): Promise<AttemptResult> =>
  runAttempt({
    provider: fake,
    cell,
    settings: matrix().settings,
    hostImage: "fake/host",
    builds: matrix().iptables,
    scenario: scenario as NonNullable<typeof scenario>,
    fix: fixName ? FIXES.get(fixName) : undefined,
  });

describe("an engine that refuses the cell's settings", () => {
  it("dockerd that will not start is the cell's result, in dockerd's own words, with nothing probed", async () => {
    const fake = provider([{ match: /^fwcompat-dockerd start$/, answer: { exitCode: 1, stderr: DOCKERD_START } }]);
    const baseline = await attempt(fake, cellOf("1.8.11-2"));
    expect(baseline.status).toBe("done");
    expect(baseline.refusal).toEqual({
      step: "start dockerd",
      detail:
        'failed to start daemon: Error initializing network controller: error creating default "bridge" network: IPv4 forwarding is disabled: check your host\'s firewalling and set sysctl net.ipv4.ip_forward=1, or disable this check using daemon option --ip-forward=false',
    });
    expect(baseline.probes).toEqual([]);
    const fix = await attempt(
      provider([{ match: /^fwcompat-dockerd start$/, answer: { exitCode: 1, stderr: DOCKERD_START } }]),
      cellOf("1.8.11-2"),
      "restart-dockerd",
    );
    expect(fix.status).toBe("not-applicable");
    const cell = assembleCell("run", cellOf("1.8.11-2"), new Date(), baseline, [fix]);
    expect(cell.status).toBe("refused");
    expect(cell.reason).toMatch(/^start dockerd: failed to start daemon: .*IPv4 forwarding is disabled/);
    expect(cell.fixes[0]?.verdict.overall).toBe("not-applicable");
    expectEvery(fake.hosts, (h) => h.disposed);
  });

  it("a network the daemon will not create during the healthy deployment is a refusal too", async () => {
    const fake = provider([
      { match: /^docker network create fwc-net1$/, answer: { exitCode: 1, stderr: NETWORK_CREATE } },
    ]);
    const baseline = await attempt(fake, cellOf("1.8.11-2"));
    expect(baseline.refusal).toEqual({ step: "create fwc-net1", detail: NETWORK_CREATE.trim() });
    expect(assembleCell("run", cellOf("1.8.11-2"), new Date(), baseline, []).status).toBe("refused");
  });

  it("a failure the engine does not explain, or a daemon.json it cannot read, stays a harness error", async () => {
    const silent = await attempt(
      provider([
        { match: /^fwcompat-dockerd start$/, answer: { exitCode: 1, stderr: "dockerd exited during start\n" } },
      ]),
      cellOf("1.8.11-2"),
    );
    expect(silent).toMatchObject({
      status: "error",
      reason: "start dockerd failed (exit 1): dockerd exited during start",
    });
    const unknown =
      "dockerd exited during start\nunable to configure the Docker daemon with file /etc/docker/daemon.json: the following directives don't match any configuration option: firewall-backend\n";
    const invalid = await attempt(
      provider([{ match: /^fwcompat-dockerd start$/, answer: { exitCode: 1, stderr: unknown } }]),
      cellOf("1.8.11-2"),
    );
    expect(invalid.status).toBe("error");
    expect(invalid.reason).toMatch(
      /^start dockerd failed \(exit 1\): .*don't match any configuration option: firewall-backend$/s,
    );
  });
});
