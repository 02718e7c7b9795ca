import type Docker from "dockerode";
import { describe, expect, it } from "vitest";
import type { Cell } from "../../src/config/expand.js";
import type { CellResult } from "../../src/results/schema.js";
import { runMatrix, type RunOptions } from "../../src/run/runner.js";
import { FakeProvider } from "../support/fake-host.js";
import { cellOf, healthy, matrix, peerWorld, preparedImages, world, type WorldOptions } from "../support/fake-world.js";
import { expectEvery } from "../support/quantifiers.js";

async function run(cells: Cell[], options: Partial<RunOptions> & WorldOptions = {}) {
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
    { prepareImages: async () => preparedImages(), dindProvider: () => fake },
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

  it("--resume: a finished cell is returned as it was, without a host", async () => {
    const earlier = (await run([cellOf("1.8.11-2")], { baselineOnly: true })).results[0] as CellResult;
    const { results, fake } = await run([cellOf("1.8.11-2")], { finished: new Map([[earlier.cell.id, earlier]]) });
    expect(results).toEqual([earlier]);
    expect(fake.hosts).toEqual([]);
  });
});
