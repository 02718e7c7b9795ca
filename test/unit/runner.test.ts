import type Docker from "dockerode";
import { describe, expect, it } from "vitest";
import type { Cell } from "../../src/config/expand.js";
import type { CellResult } from "../../src/results/schema.js";
import { runMatrix, type RunOptions, type RunSources } from "../../src/run/runner.js";
import { fixesLine } from "../../src/results/markdown.js";
import { FakeProvider } from "../support/fake-host.js";
import { cellOf, healthy, matrix, peerWorld, preparedImages, world, type WorldOptions } from "../support/fake-world.js";
import { expectEvery } from "../support/quantifiers.js";

async function run(cells: Cell[], options: Partial<RunOptions> & WorldOptions = {}, sources: Partial<RunSources> = {}) {
  const fake: FakeProvider = new FakeProvider({
    host: () => world(options),
    peer: peerWorld((s) => fake.hostAt(s), options),
  });
  const written: CellResult[] = [];
  const { results } = await runMatrix(
    {
      docker: {} as Docker,
      runId: "unit",
      matrix: matrix(),
      cells,
      engines: matrix().engines,
      basePlans: [],
      mirror: "http://mirror.invalid/debian",
      concurrency: 2,
      repeat: 1,
      baselineOnly: false,
      finished: new Map(),
      log: () => {},
      onCell: async (result) => void written.push(result),
      ...options,
    },
    { prepareImages: async () => preparedImages(), dindProvider: () => fake, ...sources },
  );
  return { results, written, fake };
}

describe("runMatrix with a scripted provider", () => {
  it("runs the baseline and every fix on a fresh host each, writes each cell as it finishes, and closes the provider", async () => {
    const { results, written, fake } = await run([cellOf("1.8.11")]);
    expect(
      fake.hosts
        .map((h) => h.spec.label.replace(/^.*-(baseline|iptables-upgrade|iptables-downgrade|userland-proxy-on)$/, "$1"))
        .sort(),
    ).toEqual(["baseline", "iptables-downgrade", "iptables-upgrade", "userland-proxy-on"]);
    expectEvery(fake.hosts, (h) => h.disposed);
    expect(fake.closed).toBe(true);
    expect(written).toEqual(results);
    const [result] = results;
    expect(result?.status).toBe("reproduced");
    expect(Object.fromEntries(result?.fixes.map((f) => [f.verdict.fix, f.verdict.overall]) ?? [])).toEqual({
      "iptables-upgrade": "repaired",
      "iptables-downgrade": "repaired",
      "userland-proxy-on": "partial",
    });
  });

  it("each cell records where its baseline host ran and the outer engine; a cell that started no host records none", async () => {
    const { results } = await run(
      [cellOf("1.8.11"), cellOf("1.8.10")],
      { baselineOnly: true },
      {
        outerEngine: async () => "Docker 99.0.4 (API 1.99)",
      },
    );
    const [ran, unavailable] = results;
    // the fake host calls its mode "fake": words no provider writes, so no kind, kept as said
    expect(ran?.host).toEqual({
      modeDetail: "fake",
      cgroup: "v1",
      kernel: "6.1.0-fake-amd64",
      outerEngine: "Docker 99.0.4 (API 1.99)",
    });
    expect(unavailable?.status).toBe("unavailable");
    expect(unavailable?.host).toBeUndefined();
  });

  it("a cell whose build cannot be had is unavailable with the reason, and starts no host", async () => {
    const { results, fake } = await run([cellOf("1.8.10")]);
    expect(results[0]).toMatchObject({
      status: "unavailable",
      reason: "iptables 1.8.10: iptables-1.8.10.tar.xz is not in the tarball directory",
      fixes: [],
    });
    expect(results[0]?.baseline).toBeUndefined();
    expect(fake.hosts).toEqual([]);
  });

  it("--repeat: repeats whose traffic differs make the cell flaky; --baseline-only skips the fixes", async () => {
    // the second host started loses external traffic; the first does not
    const flapping: WorldOptions["traffic"] = (p) =>
      p.vantage === "peer" && p.host.name === "fake-1" ? { exit: 28, stderr: "curl: (28) timed out" } : healthy(p);
    const { results, fake } = await run([cellOf("1.8.11-2")], { repeat: 2, baselineOnly: true, traffic: flapping });
    expect(fake.hosts).toHaveLength(2);
    expect(results[0]?.status).toBe("flaky");
    expect(results[0]?.repeats).toMatchObject({ count: 2, agreeing: 1 });
    expect(results[0]?.repeats?.outcomes.map((o) => o.count)).toEqual([1, 1]);
  });

  const withFixesOnHealthy = (mode: "each" | "chained" | "skip") => {
    const m = matrix();
    return { ...m, settings: { ...m.settings, fixesOnHealthyBaseline: mode } };
  };
  const verdicts = (r: CellResult | undefined) =>
    Object.fromEntries(r?.fixes.map((f) => [f.verdict.fix, f.verdict.overall]) ?? []);
  // a host's label is the cell id's first 40 characters, a dash and the attempt's name
  const attemptNames = (fake: FakeProvider) => fake.hosts.map((h) => h.spec.label.slice(41));

  it("fixesOnHealthyBaseline skip: a healthy cell runs its baseline only and says which fixes were not run", async () => {
    const each = await run([cellOf("1.8.11-2")], { matrix: withFixesOnHealthy("each") });
    const skip = await run([cellOf("1.8.11-2")], { matrix: withFixesOnHealthy("skip") });
    expect(each.fake.hosts).toHaveLength(4);
    expect(skip.fake.hosts).toHaveLength(1);
    expect(skip.results[0]?.status).toBe("works");
    expect(skip.results[0]?.fixes).toEqual([]);
    expect(skip.results[0]?.fixesNotRun).toEqual({
      fixes: ["iptables-upgrade", "iptables-downgrade", "userland-proxy-on"],
      reason: expect.stringMatching(/^not run: the baseline works/) as string,
    });
    expect(fixesLine(skip.results[0] as CellResult)).toMatch(
      /^iptables-upgrade, iptables-downgrade, userland-proxy-on: not run: the baseline works/,
    );
  });

  it("fixesOnHealthyBaseline chained: a healthy cell's fixes share one host, with the verdicts each fix gets on its own", async () => {
    const each = await run([cellOf("1.8.11-2")], { matrix: withFixesOnHealthy("each") });
    const chained = await run([cellOf("1.8.11-2")], { matrix: withFixesOnHealthy("chained") });
    const result = chained.results[0];
    expect(verdicts(result)).toEqual(verdicts(each.results[0]));
    expect(Object.values(verdicts(result))).toContain("ok");
    expect(chained.fake.hosts.length).toBeLessThan(each.fake.hosts.length);
    expect(attemptNames(chained.fake)).toContain("chained-fixes");
    expectEvery(chained.fake.hosts, (h) => h.disposed);
    expect(fixesLine(result as CellResult)).toContain(
      "iptables-upgrade: ok [regression-checked together on one host, first]",
    );
    // every verdict other than ok rests on an attempt of its own; the ok ones say what they came after
    for (const { verdict, attempt } of result?.fixes ?? []) {
      if (verdict.overall === "ok") expect(attempt.chainedAfter, verdict.fix).toBeDefined();
      else expect(attempt.chainedAfter, verdict.fix).toBeUndefined();
    }
  });

  it("a fix that breaks the healthy host in the chain is tried again on its own host, and so is every fix after it", async () => {
    // upgrading to 1.8.13-1 (the first fix) loses the user bridge from outside
    const upgradeBreaks: WorldOptions["traffic"] = (p) =>
      p.vantage === "peer" && p.host.state.get("iptables") === "1.8.13-1" && /:8081\//.test(p.command)
        ? { exit: 28, stderr: "curl: (28) timed out" }
        : healthy(p);
    const each = await run([cellOf("1.8.11-2")], { matrix: withFixesOnHealthy("each"), traffic: upgradeBreaks });
    const chained = await run([cellOf("1.8.11-2")], { matrix: withFixesOnHealthy("chained"), traffic: upgradeBreaks });
    expect(verdicts(chained.results[0])).toEqual(verdicts(each.results[0]));
    expect(verdicts(chained.results[0])["iptables-upgrade"]).toBe("regressed");
    expect(attemptNames(chained.fake).sort()).toEqual(
      ["baseline", "chained-fixes", "iptables-downgrade", "iptables-upgrade", "userland-proxy-on"].sort(),
    );
    expectEvery(chained.results[0]?.fixes ?? [], (f) => f.attempt.chainedAfter === undefined);
  });

  it("a cell whose baseline does not work runs every fix on its own host, whatever fixesOnHealthyBaseline says", async () => {
    const each = await run([cellOf("1.8.11")], { matrix: withFixesOnHealthy("each") });
    for (const mode of ["chained", "skip"] as const) {
      const { results, fake } = await run([cellOf("1.8.11")], { matrix: withFixesOnHealthy(mode) });
      expect(fake.hosts, mode).toHaveLength(4);
      expect(verdicts(results[0]), mode).toEqual(verdicts(each.results[0]));
      expect(results[0]?.fixesNotRun, mode).toBeUndefined();
      expectEvery(results[0]?.fixes ?? [], (f) => f.attempt.chainedAfter === undefined);
    }
  });

  it("a fix that cannot apply to the cell as configured is recorded not-applicable without a host, in every mode", async () => {
    for (const mode of ["each", "chained"] as const) {
      const { results, fake } = await run([cellOf("1.8.11", "proxy-on")], { matrix: withFixesOnHealthy(mode) });
      expect(attemptNames(fake).sort(), mode).toEqual(["baseline", "iptables-downgrade", "iptables-upgrade"]);
      const moot = results[0]?.fixes.find((f) => f.verdict.fix === "userland-proxy-on");
      expect(moot?.verdict.overall, mode).toBe("not-applicable");
      expect(moot?.attempt.reason, mode).toBe("userland-proxy is already on");
    }
    // a healthy cell's chain leaves it out too
    const { results, fake } = await run([cellOf("1.8.11-2", "proxy-on")], { matrix: withFixesOnHealthy("chained") });
    expect(attemptNames(fake)).not.toContain("userland-proxy-on");
    expect(attemptNames(fake)).toContain("chained-fixes");
    expect(results[0]?.fixes.find((f) => f.verdict.fix === "userland-proxy-on")?.verdict.overall).toBe(
      "not-applicable",
    );
  });

  it("--resume: a finished cell is returned as it was, without a host", async () => {
    const earlier = (await run([cellOf("1.8.11-2")], { baselineOnly: true })).results[0] as CellResult;
    const { results, fake } = await run([cellOf("1.8.11-2")], { finished: new Map([[earlier.cell.id, earlier]]) });
    expect(results).toEqual([earlier]);
    expect(fake.hosts).toEqual([]);
  });
});
