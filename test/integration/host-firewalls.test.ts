import { readdir, readFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { cellResultSchema, type CellResult, type ProbeRecord } from "../../src/results/schema.js";
import { labelledContainers, runCli } from "../support/cli.js";
import { scratchDir } from "../support/scratch.js";
import { expectEvery, expectNone } from "../support/quantifiers.js";
import { WARM_RUN_MS, WARM_RUN_TEST_MS } from "../support/timeouts.js";

// One cell per host-firewall scenario on a real engine (test/fixtures/matrices/host-firewalls.yaml),
// and a user's own scenario files gated for real (test/fixtures/user-scenario/).
const cells = new Map<string, CellResult>();
const runIds: string[] = [];
let output = "";
let gate = { exitCode: -1, stdout: "" };
const BRIDGE_NF = "/proc/sys/net/bridge/bridge-nf-call-iptables";
const machineBridgeNf = { before: "", after: "" };

async function collect(out: string): Promise<void> {
  for (const file of await readdir(join(out, "cells"))) {
    const result = cellResultSchema.parse(JSON.parse(await readFile(join(out, "cells", file), "utf8")));
    cells.set(result.cell.id, result);
  }
  runIds.push(JSON.parse(await readFile(join(out, "run.json"), "utf8")).runId);
}

const cell = (prefix: string): CellResult => {
  const found = [...cells.values()].find((c) => c.cell.id.startsWith(`${prefix}__`));
  if (!found)
    throw new Error(`no cell ${prefix}; have ${[...cells.keys()].join(", ")}; output:\n${output.slice(-3000)}`);
  return found;
};
const probes = (attempt: { probes: ProbeRecord[] } | undefined, vantage: string) =>
  attempt?.probes.filter((p) => p.vantage === vantage) ?? [];
const outcomes = (attempt: { probes: ProbeRecord[] } | undefined, vantage: string) =>
  probes(attempt, vantage).map((p) => p.outcome);
const fix = (c: CellResult, name: string) => c.fixes.find((f) => f.verdict.fix === name);

beforeAll(async () => {
  machineBridgeNf.before = readFileSync(BRIDGE_NF, "utf8").trim();
  const out = await scratchDir("fwcompat-hostfw-");
  const run = await runCli(["run", "--matrix", "test/fixtures/matrices/host-firewalls.yaml", "--out", out], {
    timeoutMs: WARM_RUN_MS,
  });
  output = `${run.stderr}\n${run.stdout}`;
  expect(run.exitCode, output.slice(-3000)).toBe(0);
  await collect(out);
  const gateOut = await scratchDir("fwcompat-usergate-");
  const gated = await runCli(["gate", "--expect", "test/fixtures/user-scenario/expectations.yaml", "--out", gateOut], {
    timeoutMs: WARM_RUN_MS,
  });
  gate = { exitCode: gated.exitCode ?? -1, stdout: gated.stdout };
  output += `\n${gated.stderr}\n${gated.stdout}`;
  await collect(gateOut);
  machineBridgeNf.after = readFileSync(BRIDGE_NF, "utf8").trim();
}, 2 * WARM_RUN_TEST_MS);

describe("host-firewall scenarios on a real engine (docker 28.5.2, iptables 1.8.11-2 nft)", () => {
  it("every run left nothing of itself on the engine", async () => {
    for (const id of runIds) expect(await labelledContainers(id)).toBe(0);
  });

  it("firewall-reload:iptables-restore: the restored ruleset cuts external traffic off and breaks the next docker run -p; --noflush reloads repair it", () => {
    const c = cell("firewall-reload+iptables-restore");
    expect(c.status).toBe("reproduced");
    expect(new Set(outcomes(c.baseline, "external"))).toEqual(new Set(["timeout"]));
    expectEvery(probes(c.baseline, "localhost"), (p) => p.pass);
    expectEvery(probes(c.baseline, "cross-network"), (p) => p.pass);
    expect(c.baseline?.errors.find((e) => e.step === "after reload: docker run -p")?.text).toMatch(
      /No chain\/target\/match by that name/,
    );
    const noflush = fix(c, "iptables-restore-noflush");
    expect(noflush?.verdict.vantages).toMatchObject({ external: "repaired", localhost: "ok", "cross-network": "ok" });
    expect(
      noflush?.attempt.steps.some((s) => s.name === "reload: iptables-restore --noflush" && s.exitCode === 0),
    ).toBe(true);
  });

  it("firewall-reload:nftables-service: flush ruleset wipes Docker's rules, isolation included (a security finding); limiting the flush to its own table repairs all", () => {
    const c = cell("firewall-reload+nftables-service");
    expect(c.status).toBe("reproduced");
    for (const vantage of ["localhost", "host-ip", "external"])
      expectNone(probes(c.baseline, vantage), (p) => p.pass, vantage);
    expectEvery(outcomes(c.baseline, "cross-network"), (o) => o === "ok");
    expect(c.securityFindings?.length).toBe(probes(c.baseline, "cross-network").length);
    expect(c.securityFindings?.[0]).toMatch(
      /^SECURITY: isolation broken: .* answered from cross-network although it must be blocked$/,
    );
    const own = fix(c, "nftables-flush-own-table");
    expect(own?.verdict.overall).toBe("repaired");
    expect(own?.attempt.securityFindings).toBeUndefined();
  });

  it("ufw:after: the allowed port answers, and so do the ports ufw denies: each is reported as a bypassed policy", () => {
    const c = cell("ufw+after");
    const external = probes(c.baseline, "external");
    const allowed = external.filter((p) => p.expect === "reachable");
    const denied = external.filter((p) => p.expect === "blocked");
    expect(allowed.map((p) => [p.target, p.outcome])).toEqual([["bridge/n0c1 :8080", "ok"]]);
    expect(denied.map((p) => p.outcome)).toEqual(["ok", "ok"]);
    expectEvery(denied, (p) => p.guard?.startsWith(`ufw denies ${p.target.split(":")[1]}/tcp`));
    expect(c.status).toBe("reproduced");
    expect(c.brokenVantages).toEqual(["external"]);
    expect(c.securityFindings).toEqual(
      denied.map((p) => `SECURITY: policy bypassed: ${p.target} answered from external although ${p.guard}`),
    );
    const guarded = fix(c, "ufw-docker-user");
    expect(guarded?.verdict.vantages).toMatchObject({
      external: "repaired",
      localhost: "ok",
      "host-ip": "ok",
      "cross-network": "ok",
    });
    expect(probes(guarded?.attempt, "external").map((p) => p.outcome)).toEqual(["ok", "timeout", "timeout"]);
  });

  it("foreign-bridge:after: Docker's FORWARD policy cuts the VMs off, bridged and routed; an accept rule in DOCKER-USER repairs both", () => {
    const c = cell("foreign-bridge+after");
    expect(c.status).toBe("reproduced");
    expect(outcomes(c.baseline, "foreign-bridged")).toEqual(["timeout"]);
    expect(outcomes(c.baseline, "foreign-routed")).toEqual(["timeout"]);
    expectEvery(probes(c.baseline, "external"), (p) => p.pass);
    const accept = fix(c, "docker-user-accept");
    expect(accept?.verdict.vantages).toMatchObject({
      "foreign-bridged": "repaired",
      "foreign-routed": "repaired",
      external: "ok",
      "cross-network": "ok",
    });
    expect(accept?.attempt.fixNote).toBe("DOCKER-USER accepts fwc-fbr0");
  });

  it("br-netfilter-off:after: the hairpin to a neighbour's published port breaks (userland-proxy off); turning it on repairs it; the machine's own setting never moved", () => {
    const c = cell("br-netfilter-off+after");
    expect(c.status).toBe("reproduced");
    expect(c.brokenVantages).toEqual(["hairpin"]);
    expect(outcomes(c.baseline, "hairpin")).toEqual(["timeout"]);
    expect(c.baseline?.steps.find((s) => s.name === "bridge-nf-call-iptables now")?.stdout.trim()).toBe("0");
    expect(fix(c, "br-netfilter-on")?.verdict.vantages).toMatchObject({ hairpin: "repaired", external: "ok" });
    expect(machineBridgeNf.after).toBe(machineBridgeNf.before);
  });

  it("firewalld-reload:nftables: firewalld runs on D-Bus in the host, reloads, and the engine keeps working", () => {
    const c = cell("firewalld-reload+nftables");
    const started = c.baseline?.steps.find((s) => s.name.startsWith("start dbus and firewalld"));
    expect(started?.stdout).toMatch(/^running\nFirewallBackend=nftables$/m);
    expect(c.baseline?.steps.find((s) => s.name === "firewall-cmd --reload")?.stdout.trim()).toBe("success");
    expect(c.status).toBe("works");
    expect(probes(c.baseline, "external").length).toBe(4);
  });
});

describe("a user's own scenario files, gated for real", () => {
  it("the gate passes on the user's expectations", () => {
    expect(gate.exitCode, output.slice(-3000)).toBe(0);
    expect(gate.stdout.trim().split("\n").at(-1)).toBe("gate passed: 2 expectation(s) held over 2 cell(s)");
  });

  it("harden-web: the web front end answers everywhere, the admin panel only from inside the host, the next release deploys", () => {
    const c = cell("harden-web");
    expect(c.status).toBe("works");
    const admin = probes(c.baseline, "external").find((p) => p.target === "front/admin :8081");
    expect(admin).toMatchObject({
      expect: "blocked",
      outcome: "timeout",
      pass: true,
      guard: "harden.sh drops 8081 from outside in DOCKER-USER",
    });
    expect(probes(c.baseline, "localhost").find((p) => p.target === "front/admin :8081")?.outcome).toBe("ok");
    const web2 = c.baseline?.probes.filter((p) => p.target === "front/web2 :8090") ?? [];
    expect(web2.map((p) => `${p.vantage}=${p.outcome}`).sort()).toEqual(["external=ok", "host-ip=ok", "localhost=ok"]);
    expect(c.baseline?.steps.find((s) => s.name === "break: harden.sh")?.exitCode).toBe(0);
  });

  it("flush-forward: the user's mistake cuts published ports off from outside; restarting dockerd repairs it", () => {
    const c = cell("flush-forward");
    expect(c.status).toBe("reproduced");
    expect(new Set(outcomes(c.baseline, "external"))).toEqual(new Set(["timeout"]));
    expect(fix(c, "restart-dockerd")?.verdict.overall).toBe("repaired");
  });
});
