import { readFileSync } from "node:fs";
import stringWidth from "string-width";
import { describe, expect, it } from "vitest";
import { renderTerminalSummary, summaryWidth } from "../../src/cli/terminal-summary.js";
import { columnWidths, renderTextTable } from "../../src/cli/text-table.js";
import { mergedResultsSchema } from "../../src/report/merge.js";
import { GROUP_DIMENSIONS, groupCells } from "../../src/results/cell-groups.js";
import type { CellResult } from "../../src/results/schema.js";
import { expectEvery } from "../support/quantifiers.js";

// The published run of the default matrix: 45 recorded cells of every status it produced.
const published = mergedResultsSchema.parse(
  JSON.parse(readFileSync(new URL("../../docs/compatibility/results.json", import.meta.url), "utf8")),
).cells;

/**
 * The rows under a scenario's heading, each as its columns' texts (a cell's wrapped lines joined
 * by spaces), read by the offsets of the rule under the header.
 */
function rowsUnder(summary: string, scenario: string): string[][] {
  const lines = summary.split("\n");
  const rule = lines.find((line) => line.startsWith("─")) ?? "";
  const spans = [...rule.matchAll(/─+/g)].map((m) => [m.index, m.index + m[0].length] as const);
  const start = lines.indexOf(`${scenario}:`);
  if (start < 0) throw new Error(`no heading ${scenario}: in\n${summary}`);
  const rows: string[][] = [];
  for (const line of lines.slice(start + 1)) {
    if (line === "" || (line.endsWith(":") && !line.includes("  "))) break; // the next heading
    const cells = spans.map(([from, to]) => line.slice(from, to).trim());
    const statusColumn = spans.length - 4;
    if (cells[statusColumn]) rows.push(cells);
    else rows.at(-1)?.forEach((_, i, row) => (row[i] = [row[i], cells[i]].filter(Boolean).join(" ")));
  }
  return rows;
}

/** The row under a scenario whose first columns are these, as "col | col | ...". */
function row(summary: string, scenario: string, ...first: string[]): string {
  const rows = rowsUnder(summary, scenario);
  const found = rows.find((cells) => first.every((value, i) => cells[i] === value));
  if (!found) throw new Error(`no row ${first.join(" | ")} under ${scenario}: ${JSON.stringify(rows)}`);
  return found.join(" | ");
}

describe("the terminal summary of a recorded run", () => {
  const summary = renderTerminalSummary(published, { width: 100, fullTable: "results/run/summary.md" });
  const lines = summary.split("\n");

  it("fits 100 columns on every line, and 80 when the terminal is that narrow", () => {
    expectEvery(lines, (line) => stringWidth(line) <= 100, "lines of the 100-column summary");
    expect(Math.max(...lines.map((l) => stringWidth(l)))).toBeGreaterThan(80); // the room is used
    const narrow = renderTerminalSummary(published, { width: 80 }).split("\n");
    expectEvery(narrow, (line) => stringWidth(line) <= 80, "lines of the 80-column summary");
  });

  it("opens with the counts and what every cell shares, and names where the full table is", () => {
    expect(lines[0]).toBe(
      `45 cell(s) in ${groupCells(published).length} row(s): 26 reproduced, 18 works, 1 refused; security findings in 6 cell(s)`,
    );
    expect(lines[1]).toBe("every cell: backend nft");
    expect(lines.at(-1)).toBe("every column, the findings and the iptables call trace: results/run/summary.md");
  });

  it("says where the hosts ran once cells record it, under what every cell shares, within the width", () => {
    // the published run: dind hosts on this machine and the VM lane's guests
    expect(lines.slice(2, lines.indexOf("", 2)).join(" ")).toMatch(
      /^hosts: 43 cell\(s\) on capability-fallback host \(ALL minus [A-Z_,]+\), cgroup v1, kernel \S+, outer engine Docker \S+ \(API [\d.]+\); 2 cell\(s\) on VM host, cgroup v2, kernel \S+$/,
    );
    const privileged = {
      mode: "privileged" as const,
      modeDetail: "privileged",
      cgroup: "v2",
      kernel: "6.17.0-1010-azure",
      outerEngine: "Docker 28.0.4 (API 1.48)",
    };
    const recorded = published.map((r) => (r.baseline ? { ...r, host: privileged } : r));
    expect(renderTerminalSummary(recorded, { width: 100 }).split("\n")[2]).toBe(
      "hosts: privileged host, cgroup v2, kernel 6.17.0-1010-azure, outer engine Docker 28.0.4 (API 1.48)",
    );
    const [first, ...rest] = recorded;
    const mixed = renderTerminalSummary([{ ...first!, host: { ...privileged, cgroup: "v1" } }, ...rest], {
      width: 80,
    }).split("\n");
    const hostsAt = mixed.findIndex((line) => line.startsWith("hosts: "));
    expect(mixed.slice(hostsAt, mixed.indexOf("", hostsAt)).join(" ")).toMatch(
      /^hosts: 44 cell\(s\) on privileged host, cgroup v2, .*; 1 cell\(s\) on privileged host, cgroup v1, /,
    );
    expectEvery(mixed, (line) => stringWidth(line) <= 80, "lines of the 80-column summary");
  });

  it("says a value every row of a scenario shares in its heading, not in a column (the multi-node cells' topology)", () => {
    expect(lines).toContain("snat-lost (2-nodes):");
    expect(lines).toContain("ip-forward-off:cross-node (2-nodes):");
    expect(lines.find((line) => line.startsWith("docker "))?.split(/\s{2,}/)).toEqual([
      "docker",
      "iptables",
      "daemon",
      "status",
      "failing (or why)",
      "fix verdicts",
      "sec",
    ]);
    expect(row(summary, "snat-lost (2-nodes)", "28.5.2")).toBe(
      "28.5.2 | 1.8.11-2 | proxy-off | reproduced | cross-node, to-other-node | repaired: restart-dockerd, masquerade-readd; still-broken: recreate-docker-chains | –",
    );
  });

  it("merges cells that ended alike into one row, naming the engines it spans", () => {
    expect(row(summary, "flush-then-run:filter (3-bridges)", "26.1.5, 28.5.2")).toBe(
      "26.1.5, 28.5.2 | 1.8.11-2 | proxy-off | reproduced | external, user-action | repaired: restart-dockerd; still-broken: recreate-docker-chains, ip-forward-on | –",
    );
    // 1.8.10 and 1.8.11-2 both work on both 28.x engines without the proxy, every fix keeping them working
    expect(row(summary, "curl-timeout (3-bridges)", "28.0.1, 28.5.2", "1.8.10, 1.8.11-2", "proxy-off")).toBe(
      "28.0.1, 28.5.2 | 1.8.10, 1.8.11-2 | proxy-off | works | – | ok: 5 fixes | –",
    );
  });

  it("names the failing vantages, each fix's verdict and the security findings of a reproduced cell", () => {
    expect(row(summary, "curl-timeout (3-bridges)", "28.0.1, 28.5.2", "1.8.11", "proxy-off")).toBe(
      "28.0.1, 28.5.2 | 1.8.11 | proxy-off | reproduced | localhost, external | repaired: iptables-upgrade, iptables-downgrade; partial: userland-proxy-on, switch-to-legacy, restart-dockerd | –",
    );
    expect(row(summary, "firewall-reload:nftables-service (3-bridges)", "28.5.2")).toBe(
      "28.5.2 | 1.8.11-2 | proxy-off | reproduced | localhost, host-ip, external, cross-network, user-action | repaired: restart-dockerd, nftables-flush-own-table | 4",
    );
    expect(row(summary, "curl-timeout (vagrant, 3-bridges)", "26.1.5", "1.8.11")).toBe(
      "26.1.5 | 1.8.11 | proxy-off | reproduced | localhost, external, cross-network | – | 2",
    );
  });

  it("shows why a cell was refused, shortened", () => {
    expect(row(summary, "ip-forward-off:before (3-bridges)", "29.7.2", "1.8.11-2", "fw-nftables")).toMatch(
      /^29\.7\.2 \| 1\.8\.11-2 \| fw-nftables \| refused \| forwarding off, restart dockerd: failed to start daemon: [^|]{10,}… \| not-applicable: 2 fixes \| –$/,
    );
  });

  it("puts every cell in exactly one row, each row's cells every combination of the values it names", () => {
    const groups = groupCells(published);
    expect(groups.length).toBeLessThan(published.length);
    expect(groups.flatMap((g) => g.cells.map((c) => c.cell.id)).sort()).toEqual(published.map((c) => c.cell.id).sort());
    expectEvery(
      groups,
      (g) =>
        GROUP_DIMENSIONS.reduce((n, d) => n * g.values[d].length, 1) === g.cells.length &&
        g.cells.every(
          (c) =>
            c.status === g.status &&
            GROUP_DIMENSIONS.every((d) => g.values[d].includes(c.cell[d])) &&
            c.brokenVantages.length === g.failingVantages.length,
        ),
      "groups",
    );
  });
});

describe("grouping", () => {
  const base = published.find(
    (c) => c.cell.id === "curl-timeout__dind__docker-28.5.2__1.8.11-nft__proxy-off__3-bridges",
  );
  const variant = (changes: Partial<CellResult["cell"]>, result: Partial<CellResult> = {}): CellResult => {
    if (!base) throw new Error("the published results lost their 28.5.2 1.8.11 cell");
    const cell = { ...base.cell, ...changes };
    return { ...structuredClone(base), ...result, cell: { ...cell, id: JSON.stringify(cell) } };
  };

  it("never merges what would claim a combination that did not run", () => {
    // 26.1.5 ran with proxy-off only, 28.5.2 with both: one row cannot say "26.1.5, 28.5.2 × proxy-off, proxy-on"
    const cells = [
      variant({ engine: "docker-26.1.5", daemon: "proxy-off" }),
      variant({ engine: "docker-28.5.2", daemon: "proxy-off" }),
      variant({ engine: "docker-28.5.2", daemon: "proxy-on" }),
    ];
    const groups = groupCells(cells);
    expect(groups).toHaveLength(2);
    expectEvery(groups, (g) => GROUP_DIMENSIONS.reduce((n, d) => n * g.values[d].length, 1) === g.cells.length);
  });

  it("keeps cells apart when a vantage, a fix verdict or the status differs", () => {
    const fixes = structuredClone(base?.fixes ?? []);
    const [first] = fixes;
    if (first) first.verdict.overall = "regressed";
    expect(
      groupCells([
        variant({ engine: "docker-26.1.5" }),
        variant({ engine: "docker-27.0.1" }, { brokenVantages: ["external"] }),
        variant({ engine: "docker-28.0.1" }, { fixes }),
        variant({ engine: "docker-29.0.1" }, { status: "flaky" }),
      ]),
    ).toHaveLength(4);
  });
});

describe("the text table", () => {
  const columns = [
    { header: "name", min: 4 },
    { header: "words", min: 6 },
  ];
  const rows = [["alpha", "one two three four five six seven eight nine ten"]];

  it("wraps at words and fits the width", () => {
    const table = renderTextTable(columns, rows, 31);
    expectEvery(table, (line) => stringWidth(line) <= 31, "lines");
    expect(table.slice(2).map((l) => l.replace(/^\S*\s+/, ""))).toEqual([
      "one two three four five",
      "six seven eight nine ten",
    ]);
  });

  it("gives the room to the column that saves lines, breaks no word while the words fit, and a longer one when not", () => {
    expect(columnWidths(columns, rows, 31)).toEqual([5, 24]);
    // with 22 columns of room the words take 3 lines, as they do in 18: the 4 more would save none
    expect(columnWidths(columns, rows, 29)).toEqual([5, 18]);
    // 21 letters in 22 columns (after the name's 4 and the gap): broken in two, 11 + 10
    expect(columnWidths(columns, [["a", "incomprehensibilities"]], 24)).toEqual([4, 11]);
  });

  it("is as wide as the terminal up to 100 columns, and 100 without a terminal", () => {
    expect(summaryWidth({ isTTY: true, columns: 120 })).toBe(100);
    expect(summaryWidth({ isTTY: true, columns: 90 })).toBe(90);
    expect(summaryWidth({ isTTY: false })).toBe(100);
  });
});
