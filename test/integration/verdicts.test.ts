import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { CellResult } from "../../src/results/schema.js";
import { latestUserActions } from "../../src/results/verdicts.js";
import { runCli } from "../support/cli.js";
import { readCells } from "../support/results.js";
import { scratchDir } from "../support/scratch.js";
import { expectEvery } from "../support/quantifiers.js";
import { WARM_RUN_MS, WARM_RUN_TEST_MS } from "../support/timeouts.js";

// Two real runs: the -C bug cell twice, in two probe orders (seed order-33 puts localhost right
// before host-ip in one repeat and after it in the other: a serial script probing in the first
// order saw host-ip fail on 1-2 of 4 ports), beside upstream 1.8.11 on the legacy backend; and a
// flushed filter table on a host whose forwarding was on, so the old traffic survives the flush.
const dirs = { order: "", flush: "", report: "" };
const outputs: string[] = [];
const cells = new Map<string, CellResult>();

const cell = (prefix: string): CellResult => {
  const found = [...cells.values()].find((c) => c.cell.id.startsWith(prefix));
  if (!found)
    throw new Error(
      `no cell ${prefix}; have ${[...cells.keys()].join(", ")}; output:\n${outputs.join("\n").slice(-3000)}`,
    );
  return found;
};
const fix = (r: CellResult, name: string) => {
  const found = r.fixes.find((f) => f.verdict.fix === name);
  if (!found) throw new Error(`${r.cell.id}: no fix ${name}`);
  return found;
};

beforeAll(async () => {
  dirs.order = await scratchDir("fwcompat-order-");
  dirs.flush = await scratchDir("fwcompat-flushfwd-");
  dirs.report = await scratchDir("fwcompat-verdict-report-");
  const [order, flush] = await Promise.all([
    runCli(
      [
        "run",
        "--matrix",
        "test/fixtures/matrices/verdicts.yaml",
        "--repeat",
        "2",
        "--seed",
        "order-33",
        "--out",
        dirs.order,
      ],
      { timeoutMs: WARM_RUN_MS },
    ),
    runCli(
      ["run", "--matrix", "test/fixtures/matrices/flush-forwarding-on.yaml", "--concurrency", "1", "--out", dirs.flush],
      { timeoutMs: WARM_RUN_MS },
    ),
  ]);
  outputs.push(order.stderr, flush.stderr);
  expect(order.exitCode, order.stderr.slice(-2000)).toBe(0);
  expect(flush.exitCode, flush.stderr.slice(-2000)).toBe(0);
  for (const dir of [dirs.order, dirs.flush])
    for (const result of await readCells(dir)) cells.set(result.cell.id, result);
  const report = await runCli(["report", dirs.order, dirs.flush, "--out", dirs.report], { timeoutMs: 60_000 });
  expect(report.exitCode, report.stderr).toBe(0);
}, WARM_RUN_TEST_MS);

describe("probe order does not change a verdict", () => {
  it("the -C bug cell gives one verdict in two orders: localhost right before host-ip, and after it", () => {
    const result = cell("curl-timeout__dind__docker-28.5.2__1.8.11-nft");
    expect(result.status).toBe("reproduced");
    expect(result.repeats).toMatchObject({ count: 2, agreeing: 2 });
    expect(result.repeats?.outcomes).toHaveLength(1);
    const orders = (result.repeats?.outcomes[0]?.probeOrders ?? []).map((o) => o.split(","));
    expect(orders).toHaveLength(2);
    const at = (order: string[], vantage: string) => order.indexOf(vantage);
    expect(orders.some((o) => at(o, "localhost") >= 0 && at(o, "host-ip") === at(o, "localhost") + 1)).toBe(true);
    expect(orders.some((o) => at(o, "host-ip") >= 0 && at(o, "host-ip") < at(o, "localhost"))).toBe(true);
    const hostIp = result.baseline?.probes.filter((p) => p.vantage === "host-ip") ?? [];
    expect(hostIp.map((p) => p.outcome)).toEqual(["ok", "ok", "ok", "ok"]);
    const pin = result.baseline?.steps.find((s) => s.name === "container addresses; pin their neighbour entries");
    expect(pin?.exitCode).toBe(0);
    expect(pin?.stderr).toBe("");
    expect(pin?.stdout.trim().split("\n")).toHaveLength(4);
  });

  it("the seed is recorded: in run.json and in every attempt's probe order", () => {
    expect(JSON.parse(readFileSync(join(dirs.order, "run.json"), "utf8")).seed).toBe("order-33");
    const result = cell("curl-timeout__dind__docker-28.5.2__1.8.11-nft");
    for (const attempt of [result.baseline, ...result.fixes.map((f) => f.attempt)]) {
      expect(attempt?.probeOrder?.seed).toBe(`order-33:${result.cell.id}`);
      expect(attempt?.probeOrder?.vantages.slice().sort()).toEqual([
        "cross-network",
        "external",
        "host-ip",
        "localhost",
      ]);
    }
  });
});

describe("partial repairs are visible", () => {
  it("restart-dockerd on upstream 1.8.11 repairs the default bridge only: partial, external repaired 1/4", () => {
    const { verdict } = fix(cell("curl-timeout__dind__docker-28.5.2__1.8.11-nft"), "restart-dockerd");
    expect(verdict.overall).toBe("partial");
    expect(verdict.vantages.external).toBe("still-broken");
    expect(verdict.counts?.external).toEqual({ broken: 4, repaired: 1, regressed: 0, total: 4 });
  });

  it("the gate can accept partial, or require a full repair and say what is missing", async () => {
    const accepted = await runCli(
      ["gate", "--expect", "test/fixtures/expectations/partial-accepted.yaml", "--results", dirs.report],
      { timeoutMs: 60_000 },
    );
    expect(accepted.exitCode, accepted.stdout + accepted.stderr).toBe(0);
    expect(accepted.stdout.trim()).toBe("gate passed: 1 expectation(s) held over 1 cell(s)");
    const strict = await runCli(
      ["gate", "--expect", "test/fixtures/expectations/full-repair-required.yaml", "--results", dirs.report],
      { timeoutMs: 60_000 },
    );
    expect(strict.exitCode).toBe(1);
    const lines = strict.stdout.trim().split("\n");
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^REGRESSION restarting dockerd must repair upstream 1\.8\.11 fully: curl-timeout__dind__docker-28\.5\.2__1\.8\.11-nft__\S+: fix restart-dockerd expected repaired, got partial \(.*external repaired 1\/4/,
      ),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^REGRESSION recreating the DOCKER chains must repair a flushed filter table: flush-then-run\+filter__\S+: fix recreate-docker-chains expected repaired, got still-broken \(.*docker network create failed \(exit 1\): Error response from daemon: /,
      ),
    );
  });
});

describe("the user's own action counts", () => {
  const flushed = () => cell("flush-then-run+filter__dind__docker-28.5.2__1.8.11-2-nft");

  it("a baseline whose docker run -p fails is reproduced although every old container's traffic flows", () => {
    const result = flushed();
    expect(result.baseline?.probes.length).toBeGreaterThan(0);
    expectEvery(result.baseline?.probes, (p) => p.pass);
    expect(result.status).toBe("reproduced");
    expect(result.brokenVantages).toEqual(["user-action"]);
    const actions = latestUserActions(result.baseline ?? { userActions: [] });
    expect(actions.map((a) => [a.action, a.ok])).toEqual([
      ["docker run -p 8084:80", false],
      ["docker network create", false],
    ]);
    expect(actions[0]?.error).toMatch(/driver failed programming external connectivity on endpoint late1/);
  });

  it("recreate-docker-chains: traffic flows and docker run -p works again, but docker network create still fails: still-broken, naming it", () => {
    const { verdict, attempt } = fix(flushed(), "recreate-docker-chains");
    expect(attempt.probes.length).toBeGreaterThan(0);
    expectEvery(attempt.probes, (p) => p.pass);
    expect(attempt.probes.some((p) => p.target.startsWith("bridge/late1 "))).toBe(true);
    expect(verdict.overall).toBe("still-broken");
    expect(verdict.vantages["user-action"]).toBe("still-broken");
    expect(verdict.failedActions?.map((a) => a.action)).toEqual(["docker network create"]);
    expect(verdict.reason).toMatch(/^docker network create failed \(exit 1\): Error response from daemon: /);
  });

  it("restart-dockerd makes both actions work again: repaired", () => {
    const { verdict } = fix(flushed(), "restart-dockerd");
    expect(verdict.vantages["user-action"]).toBe("repaired");
    expect(verdict.counts?.["user-action"]).toEqual({ broken: 2, repaired: 2, regressed: 0, total: 2 });
    expect(verdict.overall).toBe("repaired");
  });

  it("the user-action column is in the summary, the HTML and the JUnit report", () => {
    const md = readFileSync(join(dirs.report, "report.md"), "utf8");
    expect(md).toMatch(/\| cross-network \| user-action \| fixes \|/);
    expect(md).toMatch(
      /\| flush-then-run:filter \| docker-28\.5\.2 \|.*\| \*\*failed 2\/2\*\*: docker run -p 8084:80 \(exit \d+\), docker network create \(exit 1\) \| recreate-docker-chains: still-broken/,
    );
    const html = readFileSync(join(dirs.report, "index.html"), "utf8");
    expect(html).toMatch(/<span class="v fail" title="user-action: not as expected">U<\/span>/);
    const junit = readFileSync(join(dirs.report, "junit.xml"), "utf8");
    expect(junit).toMatch(
      /name="flush-then-run:filter user-action"[^>]*>\s*<failure message="2\/2 user actions failed: docker run -p 8084:80 failed/,
    );
  });
});

describe("the -C self-probe, where a version lookup would be wrong", () => {
  it("upstream 1.8.11 on the legacy backend prints the same version as the buggy nft build and answers correct", () => {
    const legacy = cell("curl-timeout__dind__docker-28.5.2__1.8.11-legacy").baseline?.evidence;
    const nft = cell("curl-timeout__dind__docker-28.5.2__1.8.11-nft").baseline?.evidence;
    expect(legacy?.iptablesVersion).toBe("iptables v1.8.11 (legacy)");
    expect(legacy?.iptablesPackage).toBe(nft?.iptablesPackage);
    expect(legacy?.iptablesPackage).toMatch(/^upstream tarball iptables-1\.8\.11\.tar\.xz/);
    expect(legacy?.checkProbe).toBe("correct");
    expect(nft?.checkProbe).toBe("buggy");
  });
});
