import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { cellResultSchema, type CellResult } from "../../src/results/schema.js";
import { targetKey } from "../../src/results/verdicts.js";
import { runCli } from "../support/cli.js";
import { scratchDir } from "../support/scratch.js";
import { sharedSources } from "./sources.js";

// The catalogue's 1.8.11+fix (upstream v1.8.11 from the bundle, 40406dbf cherry-picked on top)
// against Debian's 1.8.11-2, the same release with the same fix, in the field report's cell:
// Docker 28.5.2 without the userland proxy, 3 bridges.
const FIX = "40406dbfaefbc204134452b2747bae4f6a122848";
const V1_8_11 = "0506bea1dcc8f12d94e7c32bf2fb04abb3fdd269";

let run: { exitCode: number | undefined; output: string; cells: CellResult[] };
const cellOf = (iptables: string): CellResult => {
  const found = run.cells.find((c) => c.cell.iptables === iptables);
  if (!found) throw new Error(`no ${iptables} cell in the run:\n${run.output}`);
  return found;
};

beforeAll(async () => {
  const out = await scratchDir("fwcompat-cherry-picked-");
  const result = await runCli(
    ["run", "--matrix", "test/fixtures/matrices/cherry-picked.yaml", "--baseline-only", "--out", out],
    { timeoutMs: 30 * 60_000, env: { FWCOMPAT_SOURCE_DIR: sharedSources() } },
  );
  const files = await readdir(join(out, "cells")).catch(() => [] as string[]);
  const cells = await Promise.all(
    files.map(async (f) => cellResultSchema.parse(JSON.parse(await readFile(join(out, "cells", f), "utf8")))),
  );
  run = { exitCode: result.exitCode, output: `${result.stderr}\n${result.stdout}`.slice(-4000), cells };
}, 35 * 60_000);

describe("1.8.11+fix: v1.8.11 with the -C fix cherry-picked, beside Debian's 1.8.11-2", () => {
  it("is built from v1.8.11 with 40406dbf applied, both recorded in the cell's evidence", () => {
    expect(run.exitCode, run.output).toBe(0);
    const evidence = cellOf("1.8.11+fix").baseline?.evidence;
    expect(evidence?.iptablesVersion).toBe("iptables v1.8.11 (nf_tables)");
    expect(evidence?.iptablesCommit).toMatchObject({ commit: V1_8_11, describe: "v1.8.11" });
    expect(evidence?.iptablesPatches).toEqual([
      { commit: FIX, subject: "nft: fix interface comparisons in `-C` commands" },
    ]);
    expect(evidence?.iptablesPackage).toMatch(
      /^upstream git v1\.8\.11 \(commit 0506bea1dcc8, [\d-]{10}\): .* \+ cherry-picked 40406dbfaefb \(nft: fix interface comparisons in `-C` commands\)$/,
    );
  });

  it("answers the hosts' -C self-probe correctly, as 1.8.11-2 does", () => {
    expect(cellOf("1.8.11+fix").baseline?.evidence?.checkProbe).toBe("correct");
    expect(cellOf("1.8.11-2").baseline?.evidence?.checkProbe).toBe("correct");
  });

  it("keeps curl-timeout working on 28.5.2 proxy-off 3 bridges, every vantage as 1.8.11-2's cell has it", () => {
    const patched = cellOf("1.8.11+fix");
    const debian = cellOf("1.8.11-2");
    expect(patched.status, patched.reason).toBe("works");
    expect(debian.status, debian.reason).toBe("works");
    expect(patched.brokenVantages).toEqual([]);
    const verdicts = (c: CellResult) =>
      (c.baseline?.probes ?? []).map((p) => `${p.vantage} ${targetKey(p)}: ${p.outcome}`).sort();
    expect(verdicts(patched).length).toBeGreaterThan(0);
    expect(verdicts(patched)).toEqual(verdicts(debian));
  });
});
