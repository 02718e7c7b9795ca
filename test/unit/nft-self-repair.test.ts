import { describe, expect, it } from "vitest";
import { SCENARIOS } from "../../scenarios/index.js";
import { SPARE_NETWORK } from "../../scenarios/nft-self-repair.js";
import type { Cell } from "../../src/config/expand.js";
import { NFT_ABSENT } from "../../src/contract/host-contract.js";
import { NFT_FLUSH_RULESET } from "../../src/contract/host-commands.js";
import { FIXES } from "../../src/fixes/index.js";
import type { AttemptResult } from "../../src/results/schema.js";
import { runAttempt } from "../../src/run/attempt.js";
import { assembleCell } from "../../src/run/cell-status.js";
import { dockerRules, FakeProvider, type Rule } from "../support/fake-host.js";
import { cellOf, healthy, matrix, peerWorld, world } from "../support/fake-world.js";

/** The late container's `docker rm -f …; docker run …`, answered as the topology's own `docker run` is. */
const lateRun: Rule = {
  match: /^docker rm -f \S+ >\/dev\/null 2>&1; docker run -d /,
  answer: (script, host) => {
    const run = dockerRules()[0] as Rule;
    const inner = script.replace(/^docker rm -f \S+ >\/dev\/null 2>&1; /, "");
    return typeof run.answer === "function" ? run.answer(inner, host) : run.answer;
  },
};

function provider(rules: Rule[] = []): FakeProvider {
  const fake: FakeProvider = new FakeProvider({
    host: () => [...rules, lateRun, ...world({ traffic: healthy })],
    peer: peerWorld((script) => fake.hostAt(script), { traffic: healthy }),
  });
  return fake;
}

const cellWith = (scenario: string, variant: string | undefined): Cell => ({
  ...cellOf("1.8.11-2"),
  scenario,
  variant,
});

function attempt(fake: FakeProvider, cell: Cell, fixName?: string): Promise<AttemptResult> {
  const scenario = SCENARIOS.get(cell.scenario);
  if (!scenario) throw new Error(`${cell.scenario} is not registered`);
  return runAttempt({
    provider: fake,
    cell,
    settings: matrix().settings,
    hostImage: "fake/host",
    builds: matrix().iptables,
    scenario,
    fix: fixName ? FIXES.get(fixName) : undefined,
  });
}

/** The names of the steps run after the flush, user actions included. */
const afterFlush = (result: AttemptResult) =>
  result.steps.slice(result.steps.findIndex((s) => s.name === NFT_FLUSH_RULESET) + 1).map((s) => s.name);

describe("nft-self-repair: one user action after nft flush ruleset, each on its own", () => {
  it("has the three actions of the question and network-rm, whose failed update is what makes dockerd reload", () => {
    expect(SCENARIOS.get("nft-self-repair")?.variants).toEqual(["none", "network-create", "run-p", "network-rm"]);
  });

  it("none: the flush and nothing after it; every probe target is an old one", async () => {
    const result = await attempt(provider(), cellWith("nft-self-repair", "none"));
    expect(result.status, result.reason).toBe("done");
    expect(result.steps.map((s) => s.name)).toContain(NFT_FLUSH_RULESET);
    expect(result.userActions).toEqual([]);
    expect(result.probes.length).toBeGreaterThan(0);
    expect(result.probes.filter((p) => !p.target.startsWith("old ")).map((p) => p.target)).toEqual([]);
  });

  it("network-create: only docker network create follows the flush, no new probe target", async () => {
    const result = await attempt(provider(), cellWith("nft-self-repair", "network-create"));
    expect(result.userActions.map((a) => `${a.when}: ${a.action}`)).toEqual([
      "after nft flush ruleset: docker network create",
    ]);
    expect(result.probes.filter((p) => p.target.startsWith("new "))).toEqual([]);
  });

  it("run-p: only docker run -p follows the flush, and the late container is probed as the new target", async () => {
    const result = await attempt(provider(), cellWith("nft-self-repair", "run-p"));
    expect(result.userActions.map((a) => a.action)).toEqual(["docker run -p 8082:80"]);
    expect(afterFlush(result).filter((name) => name.includes("network create"))).toEqual([]);
    const fresh = result.probes.filter((p) => p.target.startsWith("new "));
    expect(fresh.map((p) => `${p.vantage} ${p.target}`).sort()).toEqual([
      "external new bridge/late1 :8082",
      "host-ip new bridge/late1 :8082",
      "localhost new bridge/late1 :8082",
    ]);
    expect(result.probes.filter((p) => p.target.startsWith("old ")).length).toBeGreaterThan(fresh.length);
  });

  it("network-rm: the spare network exists before the break, and its removal is the one action after it", async () => {
    const fake = provider();
    const result = await attempt(fake, cellWith("nft-self-repair", "network-rm"));
    const names = result.steps.map((s) => s.name);
    expect(names.indexOf(`create ${SPARE_NETWORK}`)).toBeGreaterThanOrEqual(0);
    expect(names.indexOf(`create ${SPARE_NETWORK}`)).toBeLessThan(names.indexOf(NFT_FLUSH_RULESET));
    expect(result.userActions.map((a) => a.action)).toEqual(["docker network rm"]);
    expect(fake.hosts[0]?.commands).toContain(`docker network rm ${SPARE_NETWORK}`);
  });
});

// What moby 29.7.2 composes when `nft` is not on its PATH (daemon/command/daemon.go, daemon/daemon.go,
// daemon/daemon_unix.go, libnetwork/firewall_linux.go, internal/nftables/nft_exec_linux.go): the
// wording the integration test then checks on a real host.
const NO_NFT_START =
  "dockerd exited during start\n" +
  'time="2026-05-01T10:00:00.000000000Z" level=warning msg="Failed to find nft tool" error="exec: \\"nft\\": executable file not found in $PATH"\n' +
  'failed to start daemon: Error initializing network controller: error obtaining controller instance: firewall-backend is set to nftables: failed to find nft tool: exec: "nft": executable file not found in $PATH\n';

describe("no-nft: a host without the nft binary", () => {
  const withoutNft: Rule[] = [
    { match: /rm -f \S*nft .*fwcompat-dockerd start$/, answer: { exitCode: 1, stderr: NO_NFT_START } },
    { match: /list ruleset/, answer: { exitCode: 3 } },
  ];

  it("on the nftables backend: refused in dockerd's words, the nft evidence says nft is absent, nothing probed", async () => {
    const baseline = await attempt(provider(withoutNft), cellWith("no-nft", undefined));
    expect(baseline.status).toBe("done");
    expect(baseline.refusal).toEqual({
      step: "nft removed, restart dockerd",
      detail:
        'failed to start daemon: Error initializing network controller: error obtaining controller instance: firewall-backend is set to nftables: failed to find nft tool: exec: "nft": executable file not found in $PATH',
    });
    expect(baseline.probes).toEqual([]);
    expect(baseline.rules.nftFinal).toBe(NFT_ABSENT);
    const fix = await attempt(provider(withoutNft), cellWith("no-nft", undefined), "restart-dockerd");
    expect(fix.status).toBe("not-applicable");
    const cell = assembleCell("run", cellWith("no-nft", undefined), new Date(), baseline, [fix]);
    expect(cell.status).toBe("refused");
    expect(cell.reason).toMatch(/^nft removed, restart dockerd: failed to start daemon: .*failed to find nft tool/);
  });

  it("removes Docker's tables, then nft and the shim's link, and checks nothing named nft is left", async () => {
    const fake = provider();
    const result = await attempt(fake, cellWith("no-nft", undefined));
    expect(result.refusal).toBeUndefined();
    const restart = result.steps.find((s) => s.name === "nft removed, restart dockerd");
    expect(restart?.command).toMatch(
      /nft delete table ip docker-bridges.*nft delete table ip6 docker-bridges.*rm -f \/usr\/sbin\/nft \/usr\/local\/sbin\/nft && hash -r && ! command -v nft/,
    );
    expect(result.probes.length).toBeGreaterThan(0);
  });
});
