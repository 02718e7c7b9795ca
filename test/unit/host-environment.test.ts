import { describe, expect, it } from "vitest";
import { engineVersionLine } from "../../src/harness/machine-facts.js";
import { hostPowersGiven, logFramesText } from "../../src/harness/providers/host-container.js";
import { renderHtmlPage } from "../../src/report/html.js";
import { renderMarkdownReport } from "../../src/report/report.js";
import {
  hostEnvironmentCounts,
  hostEnvironmentLine,
  hostEnvironmentOf,
  hostModeKind,
  hostOfCell,
} from "../../src/results/host-environment.js";
import { renderSummary } from "../../src/results/markdown.js";
import type { Evidence } from "../../src/results/schema.js";
import { readCellResult } from "../../src/results/upgrade.js";
import { attempt, cell, probe } from "../support/fake-results.js";

const evidence = (hostMode: string, cgroup = "v2", kernel = "6.17.0-1010-azure"): Evidence => ({
  hostMode,
  kernel,
  iptablesVersion: "iptables v1.8.10 (nf_tables)",
  iptablesPackage: "iptables 1.8.10-3ubuntu2",
  backend: "nft",
  dockerdVersion: "Docker version 28.0.4, build b8034c0",
  checkProbe: "correct",
  ipForward: { atStart: 0, afterDockerd: 1 },
  cgroup,
});

const OUTER = "Docker 28.0.4 (API 1.48)";
const privileged = hostEnvironmentOf("dind", { evidence: evidence("privileged") }, OUTER);
const fallback = hostEnvironmentOf(
  "dind",
  { evidence: evidence("capabilities: ALL minus BPF,PERFMON", "v1", "6.18.44-fc-v1045") },
  OUTER,
);

/** A run's cell whose baseline host recorded `host`; without it, a result written before hosts were recorded. */
const ranOn = (iptables: string, host?: ReturnType<typeof hostEnvironmentOf>, ev?: Evidence) =>
  cell(iptables, "works", [probe("external", true)], {
    baseline: attempt("baseline", [probe("external", true)], ev ? { evidence: ev } : {}),
    ...(host ? { host } : {}),
  });

describe("a cell's host, recorded", () => {
  it("reads the mode the dind provider chose, and a VM's from its provider", () => {
    expect(hostModeKind("dind", "privileged")).toBe("privileged");
    expect(hostModeKind("dind", "capabilities: ALL minus BPF")).toBe("capability-fallback");
    expect(hostModeKind("vagrant", "vagrant/libvirt VM, KVM, restored from a saved booted VM")).toBe("vm");
    expect(hostModeKind("dind", "fake")).toBeUndefined();
    expect(hostModeKind("dind", undefined)).toBeUndefined();
  });

  it("the words the provider writes are the words it is read back by", () => {
    expect(hostModeKind("dind", hostPowersGiven([]).mode)).toBe("privileged");
    expect(hostModeKind("dind", hostPowersGiven(["BPF", "PERFMON"]).mode)).toBe("capability-fallback");
  });

  it("takes the mode, cgroup and kernel from the baseline's evidence and the outer engine from the run", () => {
    expect(privileged).toEqual({
      mode: "privileged",
      modeDetail: "privileged",
      cgroup: "v2",
      kernel: "6.17.0-1010-azure",
      outerEngine: OUTER,
    });
  });

  it("a host refused before its facts were read keeps its kernel reading; a VM records no outer engine", () => {
    expect(hostEnvironmentOf("dind", { kernel: { release: "6.8.0" } }, OUTER)).toEqual({
      kernel: "6.8.0",
      outerEngine: OUTER,
    });
    const vm = hostEnvironmentOf("vagrant", { evidence: evidence("vagrant/libvirt VM, KVM") }, OUTER);
    expect(vm).toMatchObject({ mode: "vm", cgroup: "v2" });
    expect(vm.outerEngine).toBeUndefined();
  });
});

describe("a cell's host, in words", () => {
  it("as a person reads it, for each mode", () => {
    expect(hostEnvironmentLine(privileged)).toBe(
      "privileged host, cgroup v2, kernel 6.17.0-1010-azure, outer engine Docker 28.0.4 (API 1.48)",
    );
    expect(hostEnvironmentLine(fallback)).toBe(
      "capability-fallback host (ALL minus BPF,PERFMON), cgroup v1, kernel 6.18.44-fc-v1045, outer engine Docker 28.0.4 (API 1.48)",
    );
    expect(hostEnvironmentLine({ mode: "vm", modeDetail: "vagrant/libvirt VM", cgroup: "v2", kernel: "6.12.57" })).toBe(
      "VM host, cgroup v2, kernel 6.12.57",
    );
  });

  it("says 'not recorded' for what a result lacks, and for a result with nothing", () => {
    expect(hostEnvironmentLine({ kernel: "6.8.0" })).toBe(
      "host mode not recorded, cgroup not recorded, kernel 6.8.0, outer engine not recorded",
    );
    expect(hostEnvironmentLine({ modeDetail: "fake" })).toBe(
      'host "fake", cgroup not recorded, kernel not recorded, outer engine not recorded',
    );
    expect(hostEnvironmentLine(undefined)).toBe("not recorded");
    expect(hostEnvironmentLine({})).toBe("not recorded");
  });

  it("an older result without the record is read from its baseline's evidence, the outer engine not recorded", () => {
    const old = ranOn("1.8.11", undefined, evidence("privileged"));
    expect(hostEnvironmentLine(hostOfCell(old))).toBe(
      "privileged host, cgroup v2, kernel 6.17.0-1010-azure, outer engine not recorded",
    );
    expect(hostOfCell(cell("1.8.10", "unavailable", [], { baseline: undefined }))).toBeUndefined();
  });

  it("counts the cells per kind of host, most first, leaving out cells that started no host", () => {
    const counts = hostEnvironmentCounts([
      ranOn("a", fallback),
      ranOn("b", privileged),
      ranOn("c", privileged),
      cell("d", "unavailable", [], { baseline: undefined }),
    ]);
    expect(counts).toEqual([
      { line: hostEnvironmentLine(privileged), cells: 2 },
      { line: hostEnvironmentLine(fallback), cells: 1 },
    ]);
  });
});

describe("the engine fwcompat talks to, in words", () => {
  it("Docker, or Podman when its components say so", () => {
    expect(engineVersionLine({ Version: "28.0.4", ApiVersion: "1.48", Components: [{ Name: "Engine" }] })).toBe(OUTER);
    expect(engineVersionLine({ Version: "5.4.0", ApiVersion: "1.41", Components: [{ Name: "Podman Engine" }] })).toBe(
      "Podman 5.4.0 (API 1.41)",
    );
  });
});

describe("hosts are given a private cgroup namespace", () => {
  it("privileged, and on the capability fallback", () => {
    const full = hostPowersGiven([]);
    const limited = hostPowersGiven(["BPF", "PERFMON"]);
    expect(full.hostConfig).toMatchObject({ CgroupnsMode: "private", Privileged: true });
    expect(limited.hostConfig).toMatchObject({ CgroupnsMode: "private", CapAdd: ["ALL"], CapDrop: ["BPF", "PERFMON"] });
    expect(limited.hostConfig.Privileged).toBeUndefined();
  });
});

describe("reading results with and without the record", () => {
  it("a malformed record is dropped, not fatal: the rest of the cell reads", () => {
    const stored = JSON.parse(JSON.stringify(ranOn("1.8.11", privileged))) as Record<string, unknown>;
    const garbled = { ...stored, host: "privileged" };
    const oddField = { ...stored, host: { ...privileged, mode: "rootless", kernel: 6 } };
    const read = [stored, garbled, oddField].map(readCellResult);
    expect(read.map((r) => r.success)).toEqual([true, true, true]);
    const [whole, dropped, partial] = read.map((r) => (r.success ? r.data : undefined));
    expect(whole?.host).toEqual(privileged);
    expect(dropped?.host).toBeUndefined();
    expect(dropped?.status).toBe("works");
    expect(partial?.host).toEqual({ modeDetail: "privileged", cgroup: "v2", outerEngine: OUTER });
  });
});

describe("the report names each cell's host", () => {
  const recorded = ranOn("1.8.11", privileged);
  const older = ranOn("1.8.10", undefined);
  const neverRan = cell("1.8.9", "unavailable", [], { baseline: undefined, reason: "no source" });

  it("the Markdown summary: one line per kind of host, with how many cells", () => {
    const one = renderSummary([recorded]);
    expect(one).toContain(
      "**Hosts**: privileged host, cgroup v2, kernel 6.17.0-1010-azure, outer engine Docker 28.0.4 (API 1.48) (1 cell)",
    );
    const mixed = renderSummary([recorded, older, neverRan]);
    expect(mixed).toContain(
      "**Hosts**:\n\n- privileged host, cgroup v2, kernel 6.17.0-1010-azure, outer engine Docker 28.0.4 (API 1.48) (1 cell)\n- not recorded (1 cell)",
    );
    expect(renderMarkdownReport([recorded, older], "now")).toContain("- not recorded (1 cell)");
  });

  it("without a cell that started a host, the summary has no hosts line", () => {
    expect(renderSummary([neverRan])).not.toContain("Hosts");
  });

  it("the HTML drill-down: the host in words, 'not recorded' for an older result, nothing for a cell that never ran", () => {
    const page = renderHtmlPage([recorded, older, neverRan], new Map(), "now");
    expect(page.unread).toEqual([]);
    const detail = (r: typeof recorded) => {
      const start = page.html.indexOf(`id="cell-${r.cell.id}"`);
      return page.html.slice(start, page.html.indexOf("</details>", start));
    };
    expect(detail(recorded)).toContain(
      '<p class="host-environment"><b>Host:</b> privileged host, cgroup v2, kernel 6.17.0-1010-azure, outer engine Docker 28.0.4 (API 1.48)</p>',
    );
    expect(detail(older)).toContain('<p class="host-environment"><b>Host:</b> not recorded</p>');
    expect(detail(neverRan)).not.toContain("host-environment");
  });
});

describe("what a host that exited during start printed", () => {
  const frame = (stream: number, text: string) => {
    const body = Buffer.from(text);
    const header = Buffer.alloc(8);
    header[0] = stream;
    header.writeUInt32BE(body.length, 4);
    return Buffer.concat([header, body]);
  };

  it("reads the engine's framed log, stdout and stderr in order", () => {
    const raw = Buffer.concat([frame(1, "starting\n"), frame(2, "fwcompat-hostd: cgroup v2: could not delegate\n")]);
    expect(logFramesText(raw)).toBe("starting\nfwcompat-hostd: cgroup v2: could not delegate\n");
  });

  it("keeps a log without frames (a TTY's) as it is, and does not read past a short frame", () => {
    expect(logFramesText(Buffer.from("plain text from a tty\n"))).toBe("plain text from a tty\n");
    const cut = frame(2, "cut short").subarray(0, 12);
    expect(logFramesText(cut)).toBe(cut.toString("utf8"));
  });
});
