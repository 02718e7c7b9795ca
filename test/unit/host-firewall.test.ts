import { describe, expect, it } from "vitest";
import { flushOwnTablesOnly } from "../../src/fixes/nftables-flush-own-table.js";
import { renderSummary } from "../../src/results/markdown.js";
import { securityFindings } from "../../src/results/verdicts.js";
import { attempt, cell, probe } from "../support/fake-results.js";

describe("nftables-flush-own-table", () => {
  // The shape of Debian's packaged /etc/nftables.conf: flush ruleset, then one inet table with base chains.
  const debian = [
    "#!/usr/sbin/nft -f",
    "",
    "flush ruleset",
    "",
    "table inet filter {",
    "\tchain forward {",
    "\t\ttype filter hook forward priority filter;",
    "\t}",
    "}",
    "",
  ].join("\n");

  it("limits Debian's default config to its own table, declared first so the delete cannot fail", () => {
    const rewritten = flushOwnTablesOnly(debian) ?? "";
    expect(rewritten).not.toMatch(/^flush ruleset/m);
    expect(rewritten).toMatch(/^table inet filter\ndelete table inet filter\n/m);
    expect(rewritten.indexOf("delete table inet filter")).toBeLessThan(rewritten.indexOf("table inet filter {"));
  });

  it("covers every table the config declares, once each, and leaves a config without flush ruleset alone", () => {
    const two = "flush ruleset\ntable inet filter {\n}\ntable ip nat {\n}\ntable inet filter {\n}\n";
    expect(flushOwnTablesOnly(two)?.split("\n").slice(0, 4)).toEqual([
      "table inet filter",
      "delete table inet filter",
      "table ip nat",
      "delete table ip nat",
    ]);
    expect(flushOwnTablesOnly("table inet filter {\n}\n")).toBeUndefined();
    expect(flushOwnTablesOnly("flush ruleset\n")).toBeUndefined();
  });
});

describe("security findings", () => {
  const denied = {
    ...probe("external", false),
    target: "fwc-net1/n1c1 :8081",
    expect: "blocked" as const,
    outcome: "ok" as const,
    guard: "ufw denies 8081/tcp",
  };

  it("a port a policy denies that answered is a bypassed policy; blocked traffic without a guard is broken isolation", () => {
    const isolation = { ...probe("cross-network", false), outcome: "ok" as const };
    expect(securityFindings([denied, isolation, probe("external", true), probe("cross-network", true)])).toEqual([
      "SECURITY: policy bypassed: fwc-net1/n1c1 :8081 answered from external although ufw denies 8081/tcp",
      "SECURITY: isolation broken: fwc-net1/n1c1 :8081 answered from cross-network although it must be blocked",
    ]);
  });

  it("a blocked probe that failed some other way (wrong container, error) is not a finding", () => {
    expect(
      securityFindings([
        { ...denied, outcome: "error" },
        { ...denied, outcome: "timeout", pass: true },
      ]),
    ).toEqual([]);
  });

  it("the summary lists each finding by cell and attempt, and shows extra vantage columns only when probed", () => {
    const finding =
      "SECURITY: policy bypassed: fwc-net1/n1c1 :8081 answered from external although ufw denies 8081/tcp";
    const withFinding = cell("1.8.11-2", "reproduced", [denied], {
      securityFindings: [finding],
      baseline: attempt("baseline", [denied], { securityFindings: [finding] }),
    });
    const summary = renderSummary([withFinding]);
    expect(summary).toContain("**Security findings (1)**");
    expect(summary).toContain(
      `- curl-timeout\\_\\_dind\\_\\_docker-28.5.2\\_\\_1.8.11-2-nft\\_\\_proxy-off\\_\\_3-bridges (baseline): ${finding}`,
    );
    expect(summary.split("\n")[0]).not.toContain("foreign-bridged");
    const foreign = cell("1.8.11", "reproduced", [probe("foreign-bridged", false)]);
    expect(renderSummary([foreign]).split("\n")[0]).toMatch(
      /\| cross-network \| foreign-bridged \| user-action \| fixes \|/,
    );
    expect(renderSummary([foreign])).not.toContain("Security findings");
  });
});
