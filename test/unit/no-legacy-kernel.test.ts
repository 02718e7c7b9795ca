import type Docker from "dockerode";
import { describe, expect, it } from "vitest";
import { SCENARIOS } from "../../scenarios/index.js";
import { expandMatrix, type Cell } from "../../src/config/expand.js";
import { parseMatrixText } from "../../src/config/load.js";
import { parseKernelCapability, type KernelCapability } from "../../src/contract/kernel-capability.js";
import type { Host, HostProvider } from "../../src/harness/host.js";
import type { CellResult } from "../../src/results/schema.js";
import { runAttempt } from "../../src/run/attempt.js";
import { assembleCell } from "../../src/run/cell-status.js";
import { kernelGate } from "../../src/run/kernel-gate.js";
import { KNOWN_NAMES } from "../../src/run/registry.js";
import { runMatrix } from "../../src/run/runner.js";
import { FakeProvider, type Rule } from "../support/fake-host.js";
import { matrix, peerWorld, preparedImages, world } from "../support/fake-world.js";
import { expectEvery } from "../support/quantifiers.js";
import { cell as resultCell, probe, resultOf } from "../support/fake-results.js";
import { renderSummary } from "../../src/results/markdown.js";
import { cellDetail } from "../../src/report/html-detail.js";
import { kernelsSeen } from "../../src/report/publication.js";

/** What the capability script prints in a dind host on this project's machine (6.18, legacy built in, no modules). */
const DIND_KERNEL = [
  "release=6.18.0-fake",
  "config=none",
  "tables=ip_tables_names ip6_tables_names arp_tables_names",
  "legacyTry=ok",
  "nftTry=ok",
  "modules=",
].join("\n");
/** A Debian trixie guest whose legacy module files are removed (ip_tables cannot load). */
const BLOCKED_GUEST = [
  "release=6.12.57+deb13-amd64",
  "config=/boot/config-6.12.57+deb13-amd64",
  "config.CONFIG_IP_NF_IPTABLES_LEGACY=m",
  "config.CONFIG_IP_NF_IPTABLES=m",
  "config.CONFIG_NF_TABLES=m",
  "tables=",
  "legacyTry=iptables v1.8.11 (legacy): can't initialize iptables table `nat': iptables who? (do you need to insmod?)",
  "nftTry=ok",
  "modules=nf_tables x_tables ",
].join("\n");

describe("the kernel's capability, read from the capability script's output", () => {
  it("legacy built in (it works and no module holds it), nf_tables built in", () => {
    expect(parseKernelCapability(DIND_KERNEL)).toMatchObject({
      release: "6.18.0-fake",
      legacyXtables: "builtin",
      nfTables: "builtin",
    });
  });

  it("configured as modules but kept from loading: legacy absent, with the try's words in the detail", () => {
    const kernel = parseKernelCapability(BLOCKED_GUEST);
    expect(kernel).toMatchObject({ legacyXtables: "absent", nfTables: "module" });
    expect(kernel.detail).toContain("iptables who?");
    expect(kernel.detail).toContain("legacy=m");
  });

  it("loadable and loaded by the try: module; a kernel built without them (6.17+ option): absent without a try", () => {
    const loaded = BLOCKED_GUEST.replace(/^legacyTry=.*$/m, "legacyTry=ok").replace(
      "modules=nf_tables x_tables ",
      "modules=ip_tables iptable_nat nf_tables x_tables",
    );
    expect(parseKernelCapability(loaded).legacyXtables).toBe("module");
    const without = [
      "release=6.17.0",
      "config=/proc/config.gz",
      "config.CONFIG_NETFILTER_XTABLES_LEGACY=n",
      "config.CONFIG_IP_NF_IPTABLES=m",
      "config.CONFIG_NF_TABLES=y",
      "legacyTry=no legacy iptables in this host",
      "nftTry=no nf_tables iptables in this host",
    ].join("\n");
    expect(parseKernelCapability(without)).toMatchObject({ legacyXtables: "absent", nfTables: "builtin" });
  });

  it("a try that failed for another reason, without a configuration, is unknown, never absent", () => {
    const denied = DIND_KERNEL.replace(
      "legacyTry=ok",
      "legacyTry=iptables v1.8.11 (legacy): can't initialize iptables table `nat': Permission denied (you must be root)",
    );
    expect(parseKernelCapability(denied).legacyXtables).toBe("unknown");
    expect(parseKernelCapability("").legacyXtables).toBe("unknown");
  });
});

const MATRIX = `
version: 1
iptables: ["1.8.11-2", "1.8.13-1"]
engines: [docker-28.5.2]
daemon:
  - { name: proxy-off, options: { userland-proxy: false } }
topologies:
  - { name: 1-bridge, bridges: 1, basePort: 8080 }
matrix:
  - provider: [dind, vagrant]
    engine: [docker-28.5.2]
    iptables: ["1.8.11-2"]
    daemon: [proxy-off]
    topology: [1-bridge]
    scenario: ["no-legacy-kernel:kind", "no-legacy-kernel:dind-entrypoint"]
  - engine: [docker-28.5.2]
    iptables: ["1.8.11-2"]
    backend: [nft, legacy]
    daemon: [proxy-off]
    topology: [1-bridge]
    scenario: [curl-timeout]
    fixes: [switch-to-legacy, iptables-upgrade]
`;
const cells = expandMatrix(parseMatrixText(MATRIX, "kernel-matrix.yaml", KNOWN_NAMES));
const cell = (scenario: string, provider = "dind", backend = "nft"): Cell => {
  const found = cells.find(
    (c) => `${c.scenario}:${c.variant ?? ""}`.startsWith(scenario) && c.provider === provider && c.backend === backend,
  );
  if (!found) throw new Error(`no test cell ${scenario} ${provider} ${backend}`);
  return found;
};
const kernelOf = (legacyXtables: KernelCapability["legacyXtables"]): KernelCapability => ({
  release: "6.17.0-runner",
  legacyXtables,
  nfTables: "builtin",
  detail: "read by a fake",
});

describe("the dind lane on a kernel without the legacy tables (kernelGate)", () => {
  const noLegacy = SCENARIOS.get("no-legacy-kernel");

  it("a legacy-backend cell and the no-legacy-kernel control are unsupported, with the kernel and the need in the reason", () => {
    expect(
      kernelGate(cell("curl-timeout", "dind", "legacy"), kernelOf("absent"), SCENARIOS.get("curl-timeout")),
    ).toEqual({
      status: "unsupported",
      reason: expect.stringMatching(
        /^this machine's kernel \(6\.17\.0-runner: legacy xtables absent, nf_tables builtin, read in a host container\) has no legacy xtables tables, and the cell needs them: its iptables backend is legacy$/,
      ),
    });
    expect(kernelGate(cell("no-legacy-kernel:kind"), kernelOf("absent"), noLegacy)?.reason).toMatch(
      /kernel-with-legacy control$/,
    );
  });

  it("runs them where the kernel has legacy, or could not tell; VM cells run whatever the dind kernel is; nft cells always run", () => {
    for (const kernel of [kernelOf("builtin"), kernelOf("module"), kernelOf("unknown"), undefined])
      expect(kernelGate(cell("no-legacy-kernel:kind"), kernel, noLegacy)).toBeUndefined();
    expect(kernelGate(cell("no-legacy-kernel:kind", "vagrant"), kernelOf("absent"), noLegacy)).toBeUndefined();
    expect(kernelGate(cell("curl-timeout"), kernelOf("absent"), SCENARIOS.get("curl-timeout"))).toBeUndefined();
  });
});

/** What the capability script prints in a host on a runner whose kernel was built without the legacy tables. */
const RUNNER_WITHOUT_LEGACY = DIND_KERNEL.replace("release=6.18.0-fake", "release=6.17.0-runner")
  .replace("tables=ip_tables_names ip6_tables_names arp_tables_names", "tables=")
  .replace(
    "legacyTry=ok",
    "legacyTry=iptables v1.8.11 (legacy): can't initialize iptables table `nat': Table does not exist",
  );

async function runWith(kernel: KernelCapability, run: Cell[], fixesOnHealthyBaseline: "each" | "chained" = "each") {
  const hostKernel: Rule = {
    match: /^release=\$\(uname -r\)/,
    answer: { stdout: kernel.legacyXtables === "absent" ? RUNNER_WITHOUT_LEGACY : DIND_KERNEL },
  };
  const fake: FakeProvider = new FakeProvider({
    host: () => world({ rules: [hostKernel] }),
    peer: peerWorld((s) => fake.hostAt(s)),
  });
  const read: string[] = [];
  const m = matrix();
  const { results } = await runMatrix(
    {
      docker: {} as Docker,
      runId: "unit",
      matrix: { ...m, settings: { ...m.settings, fixesOnHealthyBaseline } },
      cells: run,
      engines: matrix().engines,
      basePlans: [],
      mirror: "http://mirror.invalid/debian",
      concurrency: 2,
      repeat: 1,
      baselineOnly: false,
      finished: new Map(),
      log: () => {},
      onCell: async () => {},
    },
    {
      prepareImages: async () => preparedImages(),
      dindProvider: () => fake,
      dindKernel: async (_provider, image) => (read.push(image), kernel),
    },
  );
  return { results, fake, read };
}

describe("a run reads the dind kernel once, before any cell, and records it in every dind cell", () => {
  it("without legacy: the legacy cell starts no host, switch-to-legacy is not applicable without a host, the rest runs", async () => {
    const legacyCell = cell("curl-timeout", "dind", "legacy");
    const nftCell = cell("curl-timeout");
    const { results, fake, read } = await runWith(kernelOf("absent"), [legacyCell, nftCell]);
    expect(read).toEqual(["fake/host"]);
    const [legacy, nft] = results as [CellResult, CellResult];
    expect(legacy).toMatchObject({ status: "unsupported", kernel: { legacyXtables: "absent" }, fixes: [] });
    const verdicts = Object.fromEntries(nft.fixes.map((f) => [f.verdict.fix, f.verdict.overall]));
    expect(verdicts).toEqual({ "switch-to-legacy": "not-applicable", "iptables-upgrade": expect.any(String) });
    expect(verdicts["iptables-upgrade"]).not.toBe("not-applicable");
    expect(nft.fixes[0]?.attempt.reason).toMatch(/has no legacy xtables tables, and switch-to-legacy needs them$/);
    // the baseline's own reading (in its host, before dockerd started)
    expect(nft.kernel).toMatchObject({ release: "6.17.0-runner", legacyXtables: "absent" });
    expect(nft.baseline?.kernel).toEqual(nft.kernel);
    // the nft cell's baseline and iptables-upgrade: two hosts; nothing for the legacy cell or switch-to-legacy
    expect(fake.hosts.map((h) => h.spec.label.replace(/^.*-(baseline|iptables-upgrade)$/, "$1")).sort()).toEqual([
      "baseline",
      "iptables-upgrade",
    ]);
    expectEvery(fake.hosts, (h) => h.disposed);
  });

  it("with legacy built in: every cell and fix runs", async () => {
    const run = [cell("curl-timeout", "dind", "legacy"), cell("curl-timeout")];
    const { results, fake } = await runWith(kernelOf("builtin"), run);
    const [legacy, nft] = results as [CellResult, CellResult];
    expect(legacy.status).not.toBe("unsupported");
    expect(legacy.kernel).toMatchObject({ legacyXtables: "builtin" });
    expectEvery([...legacy.fixes, ...nft.fixes], (f) => f.verdict.overall !== "error");
    // switch-to-legacy runs on the nft cell; on the legacy cell it is moot for its own reason
    expect(nft.fixes.find((f) => f.verdict.fix === "switch-to-legacy")?.verdict.overall).not.toBe("not-applicable");
    expect(legacy.fixes.find((f) => f.verdict.fix === "switch-to-legacy")?.attempt.reason).toBe(
      "already on the legacy backend",
    );
    // the legacy cell's baseline and iptables-upgrade; the nft cell's baseline and both fixes
    expect(fake.hosts).toHaveLength(5);
  });

  it("chained fixes on a healthy baseline: switch-to-legacy stays out of the chain without a host; the chain's host reads the kernel too", async () => {
    const { results, fake } = await runWith(kernelOf("absent"), [cell("curl-timeout")], "chained");
    const nft = results[0] as CellResult;
    expect(nft.status).toBe("works");
    // a host's label: the cell id's first 40 characters, a dash and the attempt's name
    expect(fake.hosts.map((h) => h.spec.label.slice(41)).sort()).toEqual(["baseline", "chained-fixes"]);
    const byFix = Object.fromEntries(nft.fixes.map((f) => [f.verdict.fix, f]));
    expect(byFix["switch-to-legacy"]?.attempt).toMatchObject({
      status: "not-applicable",
      reason: expect.stringMatching(/has no legacy xtables tables, and switch-to-legacy needs them$/),
    });
    expect(byFix["iptables-upgrade"]?.attempt.chainedAfter).toEqual([]);
    expect(byFix["iptables-upgrade"]?.attempt.kernel).toMatchObject({ legacyXtables: "absent" });
    expect(byFix["iptables-upgrade"]?.attempt.steps.map((s) => s.name)).toEqual(
      expect.arrayContaining(["kernel capability", "start dockerd"]),
    );
  });
});

/** A fake host that says it is a VM (its own kernel), answering like `inner`. */
const asVm = (inner: Host): Host => ({
  name: inner.name,
  provider: "vagrant",
  address: inner.address,
  mode: "fake VM",
  sh: (script, timeoutMs) => inner.sh(script, timeoutMs),
  dispose: () => inner.dispose(),
});

const DOCKERD_LEGACY_REFUSAL =
  "dockerd exited during start\n" +
  'time="2026-12-02T10:00:00Z" level=info msg="Starting up"\n' +
  "failed to start daemon: Error initializing network controller: error obtaining controller instance: failed to register \"bridge\" driver: failed to create NAT chain DOCKER: iptables failed: iptables --wait -t nat -N DOCKER: iptables v1.8.11 (legacy): can't initialize iptables table `nat': iptables who? (do you need to insmod?)\nPerhaps iptables or your kernel needs to be upgraded.\n (exit status 3)\n";

/** A guest that keeps the legacy modules out; dockerd refuses to start on the legacy backend. */
function guestRules(loadedAfter = ""): Rule[] {
  return [
    {
      match: /-name 'ip_tables\.ko\*'/,
      answer: { stdout: `removed-files=18\nloaded-before=${loadedAfter}\nloaded=${loadedAfter}\n` },
    },
    { match: /^release=\$\(uname -r\)/, answer: { stdout: `${BLOCKED_GUEST}\n` } },
    {
      match: /^fwcompat-dockerd (start|restart)$/,
      answer: (_script, host) =>
        host.state.get("backend") === "legacy"
          ? { exitCode: 1, stderr: DOCKERD_LEGACY_REFUSAL }
          : { stdout: "dockerd ready\n" },
    },
  ];
}

function vmProvider(rules: Rule[]): { provider: HostProvider; fake: FakeProvider } {
  const fake: FakeProvider = new FakeProvider({
    host: () => [...rules, ...world()],
    peer: peerWorld((s) => fake.hostAt(s)),
  });
  return {
    fake,
    provider: {
      name: "vagrant",
      start: async (spec) => asVm(await fake.start(spec)),
      peer: () => fake.peer(),
      close: () => fake.close(),
    },
  };
}

const attemptOn = (provider: HostProvider, c: Cell) =>
  runAttempt({
    provider,
    cell: c,
    settings: matrix().settings,
    hostImage: "fake/box",
    builds: matrix().iptables,
    scenario: SCENARIOS.get(c.scenario) as NonNullable<ReturnType<typeof SCENARIOS.get>>,
    fix: undefined,
  });

describe("no-legacy-kernel in a VM: modules kept out, the selector's pick, dockerd's own words", () => {
  it("kind picks legacy on a fresh guest; dockerd refuses in its own words; the kernel reading survives the refusal", async () => {
    const { provider, fake } = vmProvider([
      {
        match: /^legacyRules=/,
        answer: { stdout: "pick=legacy\nwhy=rules in legacy save output: 0, in nf_tables save output: 0\n" },
      },
      ...guestRules(),
    ]);
    const c = cell("no-legacy-kernel:kind", "vagrant");
    const baseline = await attemptOn(provider, c);
    const host = fake.hosts[0];
    // the modules are kept out and the selector runs before dockerd's first start, which gets the pick
    const order = [
      "-name 'ip_tables.ko*'",
      "legacyRules=",
      "fwcompat-select-iptables 1.8.11-2 legacy",
      "fwcompat-dockerd start",
    ].map((needle) => host?.commands.findIndex((cmd) => cmd.includes(needle)) ?? -1);
    expect(order).toHaveLength(4);
    expectEvery(order, (at) => at >= 0);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(baseline.steps.map((s) => s.name)).toContain(
      "selector kind picked legacy: rules in legacy save output: 0, in nf_tables save output: 0",
    );
    expect(baseline.refusal?.detail).toMatch(/can't initialize iptables table `nat': iptables who\?/);
    expect(baseline.kernel).toMatchObject({ release: "6.12.57+deb13-amd64", legacyXtables: "absent" });
    const result = assembleCell("run", c, new Date(), baseline, []);
    expect(result.status).toBe("refused");
    expect(result.reason).toMatch(
      /^start dockerd: failed to start daemon: .*can't initialize iptables table `nat': (Table does not exist|iptables who\?)/,
    );
  });

  it("dind's entrypoint picks nft there: dockerd starts and every port answers", async () => {
    const { provider } = vmProvider([
      { match: /^dir=\$\{FWCOMPAT_PROC_NET/, answer: { stdout: "pick=nft\nwhy=no legacy table listed here\n" } },
      ...guestRules(),
    ]);
    const c = cell("no-legacy-kernel:dind-entrypoint", "vagrant");
    const baseline = await attemptOn(provider, c);
    expect(baseline.refusal).toBeUndefined();
    expect(baseline.evidence?.backend).toBe("nft");
    expect(assembleCell("run", c, new Date(), baseline, []).status).toBe("works");
  });

  it("a guest that already holds a legacy module it cannot drop is a harness error naming it, not a kernel without legacy", async () => {
    const { provider } = vmProvider(guestRules("ip_tables"));
    const baseline = await attemptOn(provider, cell("no-legacy-kernel:kind", "vagrant"));
    expect(baseline.status).toBe("error");
    expect(baseline.reason).toMatch(/legacy xtables modules already in the guest kernel and not removable: ip_tables/);
  });
});

describe("the kernel in the report", () => {
  const refused = resultOf(
    {
      engine: "docker-26.1.5",
      iptables: "1.8.11-2",
      backend: "nft",
      daemon: "proxy-off",
      scenario: "no-legacy-kernel",
      variant: "kind",
      provider: "vagrant",
    },
    "refused",
    [],
    { kernel: parseKernelCapability(BLOCKED_GUEST), reason: "start dockerd: failed to start daemon: ..." },
  );
  const control = resultOf(
    {
      engine: "docker-26.1.5",
      iptables: "1.8.11-2",
      backend: "nft",
      daemon: "proxy-off",
      scenario: "no-legacy-kernel",
      variant: "kind",
    },
    "works",
    [probe("localhost", true)],
    { kernel: parseKernelCapability(DIND_KERNEL) },
  );
  const older = resultCell("1.8.11-2", "works", [probe("localhost", true)]);

  it("the summary gains a kernel column once cells record it, and shows each cell's", () => {
    const [header, , ...rows] = renderSummary([refused, control, older]).split("\n");
    expect(header).toContain("| kernel |");
    expect(rows.join("\n")).toContain("| legacy absent, nf\\_tables module |");
    expect(rows.join("\n")).toContain("| legacy builtin, nf\\_tables builtin |");
    expect(renderSummary([older]).split("\n")[0]).not.toContain("kernel");
  });

  it("the drill-down names the kernel and what was read; about.json and report.md name each lane's kernel", () => {
    const html = String(cellDetail(refused, undefined, [refused]));
    expect(html).toContain("<b>Kernel:</b> 6.12.57+deb13-amd64: legacy xtables absent, nf_tables module");
    expect(html).toContain("iptables who?");
    expect(String(cellDetail(older, undefined, [older]))).not.toContain("Kernel:");
    expect(kernelsSeen([refused, control, older])).toEqual([
      { provider: "dind", kernel: "6.18.0-fake: legacy xtables builtin, nf_tables builtin" },
      { provider: "vagrant", kernel: "6.12.57+deb13-amd64: legacy xtables absent, nf_tables module" },
    ]);
  });
});
