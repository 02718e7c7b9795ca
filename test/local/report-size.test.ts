import { describe, expect, it } from "vitest";
import { expandMatrix, namesOf } from "../../src/config/expand.js";
import { PRE_LIMIT } from "../../src/report/html-detail.js";
import { renderHtml } from "../../src/report/html.js";
import { defaultMatrixFile, loadMatrix } from "../../src/run/session/matrix-file.js";
import type { CellResult } from "../../src/results/schema.js";
import { attempt, fixResult, probe, resultOf } from "../support/fake-results.js";

/** The page's budget for the default matrix, whatever its cells logged (each text shown is cut to its tail). */
export const DEFAULT_MATRIX_PAGE_BUDGET = 5 * 1024 * 1024;

const MEGABYTE = `${"-A DOCKER -d 172.18.0.2/32 ! -i br-x -o br-x -p tcp -m tcp --dport 80 -j ACCEPT\n".repeat(13_000)}`;

/** A cell of the default matrix whose every logged text is a megabyte long. */
function loudResult({ id: _builtAgain, ...names }: ReturnType<typeof namesOf>): CellResult {
  const probes = [
    probe("localhost", true),
    probe("host-ip", true),
    probe("external", false, "timeout after 3000 ms"),
    probe("cross-network", true),
  ];
  return resultOf(names, "reproduced", probes, {
    explanation: '3 iptables -C check(s) answered "exists" for rules that were not there',
    baseline: attempt("baseline", probes, {
      rules: { beforeBreak: MEGABYTE, final: MEGABYTE, nftBeforeBreak: MEGABYTE, nftFinal: MEGABYTE },
      dockerdLog: MEGABYTE,
      errors: [{ step: "run", signature: "iptables-failed", text: MEGABYTE }],
      missingRules: ["-A DOCKER-BRIDGE -o br-{fwc-net2} -j DOCKER"],
    }),
    fixes: [
      fixResult("iptables-upgrade", "repaired", { external: "repaired" }),
      fixResult("userland-proxy-on", "still-broken", { external: "still-broken" }),
    ],
  });
}

describe("page size", () => {
  it("a report of every cell of the default matrix, each logging megabytes, stays under 5 MiB", async () => {
    const cells = expandMatrix(await loadMatrix(defaultMatrixFile()));
    expect(cells.length).toBeGreaterThanOrEqual(37);
    const page = renderHtml(
      cells.map((c) => loudResult(namesOf(c))),
      new Map(),
      "now",
    );
    const bytes = Buffer.byteLength(page);
    // every cell's six texts are each cut to their tail: the bound is what they add up to
    expect(bytes).toBeGreaterThan(cells.length * 6 * PRE_LIMIT);
    expect(bytes).toBeLessThan(DEFAULT_MATRIX_PAGE_BUDGET);
    console.log(`page of the default matrix, every text at its cut: ${bytes} bytes`);
  });
});
