import { rm } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CellResult } from "../../src/results/schema.js";
import { leftovers } from "../support/cli.js";
import { runMatrixForTest, type MatrixRun } from "../support/matrix-run.js";
import { expectEvery, expectNone } from "../support/quantifiers.js";
import { scratchDir } from "../support/scratch.js";

// Kernels without legacy iptables × the iptables selectors the field uses. VM lane: a Debian trixie
// guest whose legacy xtables module files are removed before dockerd starts (none loaded yet in the restored
// VM), the selector run before dockerd's first start (switch-to-legacy: on the running host). dind
// lane: the same cells on this machine's kernel, which has legacy built in: the control. Slow (four VM
// attempts under software emulation).
let run: MatrixRun;
let vmStates = "";

beforeAll(async () => {
  vmStates = await scratchDir("fwcompat-vm-states-");
  run = await runMatrixForTest("test/fixtures/matrices/no-legacy-kernel.yaml", {
    timeoutMs: 50 * 60_000,
    env: { FWCOMPAT_VM_STATES: vmStates },
  });
}, 55 * 60_000);

afterAll(async () => {
  if (vmStates) await rm(vmStates, { recursive: true, force: true });
});

const SELECTORS = ["dind-entrypoint", "kind", "forced-legacy", "switch-to-legacy"] as const;
const cell = (selector: (typeof SELECTORS)[number], provider: "vagrant" | "dind"): CellResult =>
  run.cell(`no-legacy-kernel+${selector}__${provider}__docker-26.1.5__1.8.11-2-nft__proxy-off__1-bridge`);
/** The step where the selector said what it picked and why. */
const picked = (r: CellResult) => r.baseline?.steps.find((s) => /^selector \S+ picked /.test(s.name))?.name ?? "";
/** dockerd's own words when it cannot use legacy iptables on this kernel. */
// (dockerd quotes the first line of iptables' output: the modprobe it ran, which finds no such module)
const NO_LEGACY_TABLE =
  /can't initialize iptables table `(nat|filter)': (Table does not exist|iptables who\?)|modprobe: FATAL: Module ip_tables not found in directory \/lib\/modules\//;
const vantagesOf = (r: CellResult) => [...new Set((r.baseline?.probes ?? []).map((p) => p.vantage))].sort();

describe("kernels without legacy iptables: the run", () => {
  it("finishes with exit 0, a result for each of the 8 cells, and nothing of the run left on the engine", async () => {
    expect(run.exitCode, run.output.slice(-3000)).toBe(0);
    expect(run.cells.size).toBe(8);
    expect(await leftovers(run.runId)).toEqual({ containers: 0, networks: 0, volumes: 0 });
  });

  it("records the kernel in every cell: the guest's legacy tables absent (modules kept out), nf_tables there", () => {
    for (const selector of SELECTORS) {
      const vm = cell(selector, "vagrant");
      expect(vm.kernel, vm.cell.id).toMatchObject({ legacyXtables: "absent", nfTables: "module" });
      expect(vm.kernel?.release).toMatch(/\+deb13-amd64$/);
      expect(vm.kernel?.detail).toMatch(/legacy=m/);
      // the module files were removed before dockerd started, and any loaded one unloaded (a VM saved
      // after its boot may hold ip_tables: measured in one of two saved VMs)
      const blocked = vm.baseline?.steps.find((s) =>
        s.name.startsWith("take the legacy xtables modules out of the guest's module tree"),
      );
      expect(Number(/^removed-files=(\d+)$/m.exec(blocked?.stdout ?? "")?.[1])).toBeGreaterThan(0);
      expect(blocked?.stdout).toMatch(/^loaded=$/m);
      expect(vm.kernel?.detail).not.toMatch(/modules loaded: .*\bip_tables\b/);
    }
  });
});

describe("kernels without legacy iptables: the VM lane, per selector", () => {
  it("docker:dind's entrypoint finds no legacy table, picks nf_tables, and every vantage answers as it must", () => {
    const r = cell("dind-entrypoint", "vagrant");
    expect(picked(r)).toMatch(/^selector dind-entrypoint picked nft: /);
    expect(r.status, r.reason).toBe("works");
    expect(r.baseline?.evidence?.backend).toBe("nft");
    expect(vantagesOf(r)).toEqual(["cross-network", "external", "host-ip", "localhost"]);
    expectEvery(r.baseline?.probes ?? [], (p) => p.pass);
    expect(r.baseline?.dockerdLog).not.toMatch(NO_LEGACY_TABLE);
  });

  it("kind's selector sees two empty save outputs, the tie picks legacy, and dockerd refuses to start in its own words", () => {
    const r = cell("kind", "vagrant");
    expect(picked(r)).toBe(
      "selector kind picked legacy: rules in legacy save output: 0, in nf_tables save output: 0 (legacy unless nf_tables has more)",
    );
    expect(r.status).toBe("refused");
    expect(r.reason).toMatch(/^start dockerd: failed to start daemon: /);
    expect(r.reason).toMatch(NO_LEGACY_TABLE);
    expect(r.baseline?.dockerdLog).toMatch(NO_LEGACY_TABLE);
    // nothing could be deployed, so no vantage was probed
    expect(r.baseline?.probes).toEqual([]);
  });

  it("an image that pins iptables-legacy: dockerd refuses to start with the same words", () => {
    const r = cell("forced-legacy", "vagrant");
    expect(picked(r)).toMatch(/^selector forced-legacy picked legacy: /);
    expect(r.status).toBe("refused");
    expect(r.reason).toMatch(NO_LEGACY_TABLE);
    expect(r.baseline?.probes).toEqual([]);
  });

  it("switch-to-legacy on the running, deployed host: dockerd does not come back, in its own words", () => {
    const r = cell("switch-to-legacy", "vagrant");
    expect(picked(r)).toBe("");
    // the healthy deployment ran on nf_tables before the switch
    expectNone(r.baseline?.steps.filter((s) => s.name.startsWith("run ")) ?? [], (s) => s.exitCode !== 0);
    expect(r.status).toBe("refused");
    expect(r.reason).toMatch(/^restart dockerd: failed to start daemon: /);
    expect(r.reason).toMatch(NO_LEGACY_TABLE);
    expect(r.baseline?.errors.map((e) => e.signature)).toContain("legacy-table-missing");
  });
});

describe("kernels without legacy iptables: the dind control on this machine's kernel", () => {
  it("every dind cell records this machine's kernel with legacy (built in) and nf_tables, and left its modules alone", () => {
    for (const selector of SELECTORS) {
      const r = cell(selector, "dind");
      expect(r.kernel, r.cell.id).toMatchObject({ legacyXtables: "builtin", nfTables: "builtin" });
      expect(r.kernel?.release).not.toBe(cell(selector, "vagrant").kernel?.release);
      expect(r.baseline?.steps.map((s) => s.name)).toContain(
        "legacy xtables left as this machine's kernel has them (a dind host shares it: the kernel-with-legacy control)",
      );
    }
  });

  it("the selectors pick: dind-entrypoint nf_tables (a fresh namespace lists no legacy table), kind nf_tables (the outer engine's DNS rules count), the pinned image legacy", () => {
    expect(picked(cell("dind-entrypoint", "dind"))).toMatch(/^selector dind-entrypoint picked nft: /);
    // a dind host on a user network of the outer engine carries that engine's rules for its
    // embedded DNS server (nat DOCKER_OUTPUT/DOCKER_POSTROUTING) in nf_tables: no tie, as for kind's own nodes
    const kind = /^selector kind picked nft: rules in legacy save output: 0, in nf_tables save output: (\d+) /.exec(
      picked(cell("kind", "dind")),
    );
    expect(Number(kind?.[1])).toBeGreaterThan(0);
    expect(picked(cell("forced-legacy", "dind"))).toMatch(/^selector forced-legacy picked legacy: /);
  });

  it("with legacy in the kernel every selector's dockerd starts and every vantage answers as it must", () => {
    for (const selector of SELECTORS) {
      const r = cell(selector, "dind");
      expect(r.status, `${r.cell.id}: ${r.reason ?? ""}`).toBe("works");
      expect(r.baseline?.refusal).toBeUndefined();
      expect(vantagesOf(r)).toEqual(["cross-network", "external", "host-ip", "localhost"]);
      expectEvery(r.baseline?.probes ?? [], (p) => p.pass);
    }
    // dockerd ran on what the selector picked
    expect(cell("forced-legacy", "dind").baseline?.evidence?.iptablesVersion).toMatch(/\(legacy\)/);
    expect(cell("kind", "dind").baseline?.evidence?.iptablesVersion).toMatch(/\(nf_tables\)/);
    expect(cell("dind-entrypoint", "dind").baseline?.evidence?.iptablesVersion).toMatch(/\(nf_tables\)/);
  });
});
