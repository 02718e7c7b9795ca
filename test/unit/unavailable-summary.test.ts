import { describe, expect, it } from "vitest";
import type { MissingSource } from "../../src/results/missing-source.js";
import type { CellResult } from "../../src/results/schema.js";
import { unavailableSummary } from "../../src/report/unavailable-summary.js";
import { cell } from "../support/fake-results.js";

/** A result of `engine` x `iptables` (one per daemon, to make several cells of a pair). */
function result(
  engine: string,
  iptables: string,
  daemon: string,
  status: CellResult["status"],
  reason = "",
): CellResult {
  const base = cell(iptables, status, [], { reason });
  return {
    ...base,
    cell: { ...base.cell, engine, daemon, id: `curl-timeout__dind__${engine}__${iptables}-nft__${daemon}` },
  };
}

const docker29: MissingSource = {
  axis: "engine",
  name: "docker-29.7.2",
  label: "Docker 29.7.2",
  files: ["moby-docker-v29.7.2.tar.xz"],
  onlineRoute: true,
  downloadsAllowed: false,
};
const ipt1810: MissingSource = {
  axis: "iptables",
  name: "1.8.10",
  label: "iptables 1.8.10",
  files: ["iptables-upstream.bundle", "iptables-1.8.10.tar.xz"],
  onlineRoute: true,
  downloadsAllowed: false,
};

describe("the end-of-run lines about unavailable cells", () => {
  it("an offline first run: one line for the sources downloads would fetch, counting each cell once", () => {
    const results = [
      // 29.7.2 with two builds and two daemons: 4 cells
      ...["1.8.11", "1.8.11-2"].flatMap((b) =>
        ["fw-iptables", "fw-nftables"].map((d) =>
          result("docker-29.7.2", b, d, "unavailable", "engine docker-29.7.2: long reason\nmore"),
        ),
      ),
      // 1.8.10 on 28.5.2 with two daemons: 2 cells
      ...["proxy-off", "proxy-on"].map((d) =>
        result("docker-28.5.2", "1.8.10", d, "unavailable", "iptables 1.8.10: long reason"),
      ),
      // both missing at once: still one cell
      result("docker-29.7.2", "1.8.10", "fw-iptables", "unavailable", "iptables 1.8.10: long reason"),
      result("docker-28.5.2", "1.8.11", "proxy-off", "reproduced"),
    ];
    expect(unavailableSummary(results, [ipt1810, docker29])).toEqual([
      "Docker 29.7.2 and iptables 1.8.10: 7 cells unavailable — sources not found offline; set FWCOMPAT_SOURCE_DIR=DIR holding moby-docker-v29.7.2.tar.xz, iptables-upstream.bundle, iptables-1.8.10.tar.xz, or allow downloads",
    ]);
  });

  it("downloads allowed but failed, a local-only source, and other reasons: a line each, the others grouped by reason", () => {
    const results = [
      result("docker-29.7.2", "1.8.11", "a", "unavailable", "engine docker-29.7.2: …"),
      result("docker-28.5.2", "1.8.12", "a", "unavailable", "iptables 1.8.12: …"),
      result(
        "docker-28.5.2",
        "1.8.9",
        "a",
        "unavailable",
        "iptables 1.8.9: the mirror does not carry it (Unable to locate)\ndetail",
      ),
      result(
        "docker-28.5.2",
        "1.8.9",
        "b",
        "unavailable",
        "iptables 1.8.9: the mirror does not carry it (Unable to locate)",
      ),
    ];
    const onlineFailed = { ...docker29, downloadsAllowed: true };
    const localOnly: MissingSource = {
      ...ipt1810,
      name: "1.8.12",
      label: "iptables 1.8.12",
      files: ["my.bundle"],
      onlineRoute: false,
    };
    expect(unavailableSummary(results, [onlineFailed, localOnly])).toEqual([
      "Docker 29.7.2: 1 cell unavailable — sources not found here, and downloading them failed (each reason in summary.md); set FWCOMPAT_SOURCE_DIR=DIR holding moby-docker-v29.7.2.tar.xz",
      "iptables 1.8.12: 1 cell unavailable — sources not found; set FWCOMPAT_SOURCE_DIR=DIR holding my.bundle",
      "2 cells unavailable — iptables 1.8.9: the mirror does not carry it (Unable to locate)",
    ]);
  });

  it("a missing source no unavailable cell used says nothing; a run with every cell run says nothing", () => {
    const ran = [result("docker-28.5.2", "1.8.11", "a", "works"), result("docker-28.5.2", "1.8.11", "b", "error", "x")];
    expect(unavailableSummary(ran, [docker29, ipt1810])).toEqual([]);
  });
});
