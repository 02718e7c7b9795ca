import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compareResults } from "../../src/report/compare.js";
import { evaluateGate, type Expectation } from "../../src/report/gate.js";
import { goldenKey, normaliseRules } from "../../src/report/goldens.js";
import { createHash } from "node:crypto";
import { CONTENT_SECURITY_POLICY, SCRIPT, STYLE } from "../../src/report/html-assets.js";
import { renderHtml, renderHtmlPage } from "../../src/report/html.js";
import { markup as template, trusted } from "../../src/report/template.js";
import { renderJunit } from "../../src/report/junit.js";
import { renderMarkdownReport } from "../../src/report/report.js";
import { twinOf } from "../../src/report/twins.js";
import { attempt, cell, probe } from "../support/fake-results.js";

const broken = cell(
  "1.8.11",
  "reproduced",
  [probe("external", false), probe("localhost", true), probe("cross-network", true)],
  {
    explanation:
      '3 iptables -C check(s) answered "exists" for rules that were not there → skipped: DOCKER-BRIDGE -o br-{fwc-net2} -j DOCKER',
    fixes: [
      {
        verdict: { fix: "iptables-upgrade", vantages: { external: "repaired" }, overall: "repaired" },
        attempt: attempt("iptables-upgrade", []),
      },
      {
        verdict: { fix: "userland-proxy-on", vantages: { external: "still-broken" }, overall: "still-broken" },
        attempt: attempt("userland-proxy-on", []),
      },
    ],
  },
);
const healthy = cell("1.8.11-2", "works", [
  probe("external", true),
  probe("localhost", true),
  probe("cross-network", true),
]);
const missing = cell("1.8.10", "unavailable", [], {
  baseline: undefined,
  reason: "iptables-1.8.10.tar.xz unobtainable",
});

describe("HTML report", () => {
  it("escapes everything a container or a rule can print", () => {
    const data = `<script>alert("x")</script>&'`;
    expect(
      template`<p title="${data}">${[data, 1]}${template`<b>${data}</b>`}${trusted("<i>code</i>")}</p>`.toString(),
    ).toBe(
      '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;1<b>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;</b><i>code</i></p>',
    );
    const hostile = cell("1.8.11", "reproduced", [probe("external", false, "<img src=x onerror=alert(1)>")]);
    const html = renderHtml([hostile], new Map(), "now");
    expect(html).not.toContain("<img src=x");
    expect(html).toContain("&lt;img src=x onerror=alert(1)&gt;");
  });

  it("puts each cell in the matrix with its vantages, fixes and a link to its drill-down", () => {
    const html = renderHtml([broken, healthy, missing], new Map(), "now");
    expect(html).toContain(`href="#cell-${broken.cell.id}"`);
    expect(html).toContain(`id="cell-${broken.cell.id}"`);
    expect(html).toMatch(
      /<tr data-scenario="curl-timeout" data-fix="iptables-upgrade">.*data-verdict="repaired">repaired 1\/1</,
    );
    expect(html).toMatch(
      /<tr data-scenario="curl-timeout" data-fix="userland-proxy-on">.*data-verdict="still-broken">still-broken 1\/1</,
    );
    expect(html).toContain("3 cells: 1 reproduced, 1 unavailable, 1 works");
    expect(html).not.toMatch(/<(link|script) [^>]*src=/);
  });

  it("offers an upgrade from the oldest value of the first dimension that varies to its newest", () => {
    const html = renderHtml([healthy, broken], new Map(), "now");
    const chosen = (side: string) =>
      new RegExp(`<select name="${side}-iptables" data-dimension="iptables">.*?<option selected>([^<]+)</option>`).exec(
        html,
      )?.[1];
    expect([chosen("current"), chosen("candidate")]).toEqual(["1.8.11", "1.8.11-2"]);
  });

  it("opens the upgrade view on the one-step upgrade the most cells ran on both sides of", () => {
    const at = (engine: string, iptables: string, daemon: string, id: string) => ({
      ...broken,
      cell: { ...broken.cell, engine, iptables, daemon, id },
    });
    // engine is the first dimension that varies, but docker-a → docker-b (same build and daemon) has no cell on both sides
    const html = renderHtml(
      [
        at("docker-a", "1.8.11", "proxy-off", "a1"),
        at("docker-b", "1.8.11", "fw-nft", "b1"),
        at("docker-a", "1.8.11-2", "proxy-off", "a2"),
      ],
      new Map(),
      "now",
    );
    const chosen = (side: string, dimension: string) =>
      new RegExp(
        `<select name="${side}-${dimension}" data-dimension="${dimension}">.*?<option selected>([^<]+)</option>`,
      ).exec(html)?.[1];
    expect(["engine", "iptables", "daemon"].map((d) => [chosen("current", d), chosen("candidate", d)])).toEqual([
      ["docker-a", "docker-a"],
      ["1.8.11", "1.8.11-2"],
      ["proxy-off", "proxy-off"],
    ]);
  });

  it("lets only its own style and script run: the policy names their hashes and nothing else", () => {
    const hash = (text: string) => `'sha256-${createHash("sha256").update(text).digest("base64")}'`;
    const html = renderHtml([broken], new Map(), "now");
    expect(html).toContain(
      `<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY.replaceAll("'", "&#39;")}">`,
    );
    expect(CONTENT_SECURITY_POLICY).toContain(`script-src ${hash(SCRIPT)};`);
    expect(CONTENT_SECURITY_POLICY).toContain(`style-src ${hash(STYLE)};`);
    expect(CONTENT_SECURITY_POLICY).toMatch(/^default-src 'none';/);
    expect(CONTENT_SECURITY_POLICY).not.toContain("unsafe");
    expect(html).toContain(`<script>${SCRIPT}</script>`);
    expect(html.match(/<script/g)).toHaveLength(1);
  });

  it("names a cell whose evidence cannot be rendered and renders the others", () => {
    const twinWithGarbage = {
      ...broken,
      cell: { ...broken.cell, provider: "vagrant", id: "vm-twin" },
      baseline: attempt("baseline", [], { rules: { final: "this is not iptables-save output" } }),
    };
    const withRules = {
      ...broken,
      baseline: attempt("baseline", [probe("external", false)], {
        rules: { final: "*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n" },
      }),
    };
    const page = renderHtmlPage([withRules, twinWithGarbage, healthy], new Map(), "now");
    expect(page.unread.map((u) => u.source).sort()).toEqual([broken.cell.id, "vm-twin"]);
    expect(page.html).toContain(
      '<section id="not-rendered" class="problems"><h2>2 result(s) could not be read or judged</h2>',
    );
    expect(page.html).toContain(`id="cell-${healthy.cell.id}"`);
  });

  it("states the probe order as what the run did: a launch order on pinned neighbour entries", () => {
    const ordered = cell("1.8.11-2", "works", [probe("external", true)], {
      baseline: attempt("baseline", [probe("external", true)], {
        probeOrder: { seed: "s1:c", repeat: 2, vantages: ["external", "localhost"] },
      }),
    });
    const html = renderHtml([ordered], new Map(), "now");
    expect(html).toContain(
      "<b>Launch order:</b> external → localhost (seed s1:c, repeat 2; every vantage probed at once, after each target's neighbour entry was pinned)",
    );
    expect(html).not.toContain("flushed");
  });
});

describe("a multi-node cell's drill-down", () => {
  const crossNode = (pass: boolean) => ({
    ...probe("localhost", pass),
    vantage: "cross-node" as const,
    target: "node-a/bridge/n0c1 -> node-b/node-b-web (ping)",
  });
  const baseline = attempt("baseline", [crossNode(false)], {
    rules: { final: "-A POSTROUTING -s 10.77.0.0/24 ! -o docker0 -j MASQUERADE" },
    nodes: [
      {
        name: "node-a",
        address: "172.20.0.2",
        subnets: ["10.77.0.0/24", "10.78.0.0/16"],
        routes: "10.79.0.0/24 via 10.79.0.0 dev fwc-vxlan0 onlink",
        sysctls: { "net.ipv4.ip_forward": "0" },
      },
      {
        name: "node-b",
        address: "172.20.0.3",
        subnets: ["10.79.0.0/24", "10.80.0.0/16"],
        routes: "10.77.0.0/24 via 10.77.0.0 dev fwc-vxlan0 onlink",
        sysctls: { "net.ipv4.ip_forward": "1" },
        rules: {
          final: "-A POSTROUTING -s 10.79.0.0/24 ! -o docker0 -j MASQUERADE",
          nftFinal: "table ip fwc-hardening {}",
        },
        dockerdLog: "node-b's dockerd",
      },
    ],
  });
  const fixed = (name: string, lasts: boolean) => ({
    verdict: {
      fix: name,
      vantages: { "cross-node": "repaired" as const },
      overall: "repaired" as const,
      afterEvent: {
        event: "kernel-parameter reload (sysctl --system)",
        vantages: { "cross-node": lasts ? ("repaired" as const) : ("still-broken" as const) },
        overall: lasts ? ("repaired" as const) : ("still-broken" as const),
      },
    },
    attempt: attempt(name, [crossNode(true)], {
      afterEvent: {
        event: "reload",
        probes: [crossNode(lasts)],
        steps: [],
        sysctls: { "net.ipv4.ip_forward": lasts ? "1" : "0" },
      },
    }),
  });
  const result = cell("1.8.11-2", "reproduced", [crossNode(false)], {
    baseline,
    fixes: [fixed("ip-forward-on", false), fixed("ip-forward-persist", true)],
  });

  it("shows both nodes' rules, routes and forwarding", () => {
    const html = renderHtml([result], new Map(), "now");
    expect(html).toContain(
      "<tr><td>node-b</td><td>172.20.0.3</td><td>10.79.0.0/24, 10.80.0.0/16</td><td>net.ipv4.ip_forward=1</td></tr>",
    );
    expect(html).toContain(
      "<h3>node-b: rules at probe time</h3><pre>-A POSTROUTING -s 10.79.0.0/24 ! -o docker0 -j MASQUERADE</pre>",
    );
    expect(html).toContain("<h3>node-b: nft list ruleset at probe time</h3><pre>table ip fwc-hardening {}</pre>");
    expect(html).toContain("<h3>node-a: routes and addresses</h3>");
    expect(html).not.toContain("<h3>node-a: rules at probe time</h3>");
  });

  it("shows each fix after the later event, so the one that does not last stands out", () => {
    const html = renderHtml([result], new Map(), "now");
    expect(html).toContain("<h3>Fixes, and after the kernel-parameter reload (sysctl --system)</h3>");
    expect(html).toMatch(
      /<td>ip-forward-on<\/td><td class="fix repaired">repaired<\/td><td>cross-node: repaired<\/td><td class="fix still-broken">still-broken<\/td><td>cross-node: still-broken \(ip_forward 0\)<\/td>/,
    );
    expect(html).toMatch(
      /<td>ip-forward-persist<\/td><td class="fix repaired">repaired<\/td><td>cross-node: repaired<\/td><td class="fix repaired">repaired<\/td><td>cross-node: repaired \(ip_forward 1\)<\/td>/,
    );
  });
});

describe("VM and dind twins", () => {
  const vmTwin = (of: typeof broken, probes = of.baseline?.probes ?? []) => ({
    ...of,
    cell: { ...of.cell, provider: "vagrant", id: of.cell.id.replace("__dind__", "__vagrant__") },
    baseline: attempt("baseline", probes),
  });

  it("both lanes get their own row, and each drill-down says whether its twin agrees", () => {
    const agreeing = vmTwin(healthy);
    const differing = vmTwin(broken, [
      probe("external", false),
      probe("localhost", true),
      probe("cross-network", false),
    ]);
    const html = renderHtml([broken, healthy, agreeing, differing], new Map(), "now");
    expect(html.match(/<tr data-row /g)).toHaveLength(4);
    expect(html).toContain("[vagrant VM]");
    expect(html).toMatch(new RegExp(`<b>vagrant twin:</b> <a href="#cell-${agreeing.cell.id}">works</a> — agrees`));
    expect(html).toMatch(
      new RegExp(
        `<b>dind twin:</b> <a href="#cell-${broken.cell.id}">reproduced</a> — differs \\(vantages: cross-network\\)`,
      ),
    );
  });
});

describe("twins are found by what the cells are, not by their ids", () => {
  const onVm = (of: typeof broken, cellChanges: Partial<typeof broken.cell> = {}) => ({
    ...of,
    cell: { ...of.cell, provider: "vagrant", id: `vm-${of.cell.iptables}`, ...cellChanges },
  });

  it("the same engine, build, backend, daemon, topology and scenario on the other provider", () => {
    const vm = onVm(broken);
    expect(twinOf(vm, [healthy, broken, vm])).toBe(broken);
    expect(twinOf(broken, [healthy, broken, vm])).toBe(vm);
  });

  it("a cell differing in any of those, or in its scenario variant, is no twin", () => {
    const flush = { ...broken, cell: { ...broken.cell, scenario: "flush-then-run", variant: "filter" } };
    expect(twinOf(onVm(broken, { daemon: "proxy-on" }), [broken])).toBeUndefined();
    expect(twinOf(onVm(flush, { variant: "all" }), [flush])).toBeUndefined();
    expect(twinOf(onVm(flush), [flush])).toBe(flush);
    expect(twinOf(broken, [broken, healthy])).toBeUndefined();
  });
});

describe("JUnit", () => {
  it("a case per cell × vantage and per fix: failures for reproduced traffic and broken fixes, skips for unavailable", () => {
    const xml = renderJunit([broken, healthy, missing]);
    expect(xml).toMatch(/<testsuites tests="9" failures="2" errors="0" skipped="1">/);
    expect(xml).toContain('name="curl-timeout external"');
    expect(xml).toMatch(
      /<failure message="1\/1 probes not as expected: fwc-net1\/n1c1 :8081 timeout — 3 iptables -C check/,
    );
    expect(xml).toMatch(
      /name="curl-timeout fix userland-proxy-on">\s*<failure message="still-broken: external still-broken"/,
    );
  });
});

describe("Markdown report", () => {
  it("stays under GitHub's 1 MiB step-summary limit", () => {
    const many = Array.from({ length: 6000 }, (_, i) => ({
      ...broken,
      cell: { ...broken.cell, id: `${broken.cell.id}-${i}` },
    }));
    const md = renderMarkdownReport(many, "now");
    expect(Buffer.byteLength(md)).toBeLessThan(1024 * 1024);
    expect(md).toMatch(/_\d+ more rows in index\.html/);
  });
});

describe("gate", () => {
  const expectations: Expectation[] = [
    { name: "fixed build works", match: { iptables: "1.8.11-2" }, expect: "works" },
    {
      name: "known failure",
      match: { iptables: "1.8.11" },
      expect: "reproduced",
      fixes: { "iptables-upgrade": "repaired" },
    },
  ];

  it("passes when every expectation holds", () => {
    expect(evaluateGate(expectations, [broken, healthy])).toEqual({ checkedCells: 2, regressions: [], unmatched: [] });
  });

  it("names each regression exactly, with the broken vantages and the why", () => {
    const regressed = {
      ...healthy,
      status: "reproduced" as const,
      baseline: attempt("baseline", [probe("external", false), probe("external", true)]),
      explanation: "why text",
    };
    const outcome = evaluateGate(
      [
        ...expectations,
        { name: "proxy fixes it", match: { iptables: "1.8.11" }, fixes: { "userland-proxy-on": "repaired" } },
      ],
      [broken, regressed],
    );
    expect(outcome.regressions).toEqual([
      `fixed build works: ${healthy.cell.id}: expected works, got reproduced (external: timeout 1/2) — why: why text`,
      `proxy fixes it: ${broken.cell.id}: fix userland-proxy-on expected repaired, got still-broken (external still-broken)`,
    ]);
  });

  it("checks a fix again after the later event: the one that does not last is named", () => {
    const judged = (fix: string, lasts: boolean | undefined) => ({
      verdict: {
        fix,
        vantages: { "cross-node": "repaired" as const },
        overall: "repaired" as const,
        ...(lasts === undefined
          ? {}
          : {
              afterEvent: {
                event: "kernel-parameter reload",
                vantages: { "cross-node": lasts ? ("repaired" as const) : ("still-broken" as const) },
                overall: lasts ? ("repaired" as const) : ("still-broken" as const),
              },
            }),
      },
      attempt: attempt(fix, []),
    });
    const crossNode = {
      ...broken,
      fixes: [judged("ip-forward-on", false), judged("ip-forward-persist", true), judged("restart-dockerd", undefined)],
    };
    const outcome = evaluateGate(
      [
        {
          name: "only the persisted setting lasts",
          match: { iptables: "1.8.11" },
          fixesAfterEvent: { "ip-forward-on": "still-broken", "ip-forward-persist": "repaired" },
        },
        {
          name: "every fix lasts",
          match: { iptables: "1.8.11" },
          fixesAfterEvent: { "ip-forward-on": "repaired", "restart-dockerd": "repaired" },
        },
      ],
      [crossNode],
    );
    expect(outcome.regressions).toEqual([
      `every fix lasts: ${broken.cell.id}: fix ip-forward-on expected repaired after the kernel-parameter reload, got still-broken (cross-node still-broken)`,
      `every fix lasts: ${broken.cell.id}: fix restart-dockerd expected repaired after the later event, but no later event was judged`,
    ]);
  });

  it("an expectation no result matches is reported, not silently passed", () => {
    expect(
      evaluateGate([{ name: "engine 29", match: { engine: "docker-29" }, expect: "works" }], [healthy]).unmatched,
    ).toEqual(["engine 29"]);
  });
});

describe("compare", () => {
  it("lists status, vantage and fix changes", () => {
    const after = {
      ...broken,
      status: "works" as const,
      baseline: attempt("baseline", [probe("external", true), probe("localhost", true), probe("cross-network", true)]),
      fixes: [],
    };
    expect(compareResults([broken, healthy], [after, missing])).toEqual([
      `+ ${missing.cell.id}: new cell, unavailable`,
      `- ${healthy.cell.id}: no longer in the results (was works)`,
      `~ ${broken.cell.id}: reproduced -> works`,
      `~ ${broken.cell.id}: external broken -> ok`,
      `~ ${broken.cell.id}: fix iptables-upgrade repaired -> -`,
      `~ ${broken.cell.id}: fix userland-proxy-on still-broken -> -`,
    ]);
  });
});

describe("goldens", () => {
  it("normalise a real dump: bridges by network, DNS proxy ports, counters", () => {
    const dump = readFileSync(
      new URL("../fixtures/iptables-save/docker-28.5.2_1.8.13-nft_3-bridges_healthy.txt", import.meta.url),
      "utf8",
    );
    const lines = normaliseRules(dump, [
      { network: "fwc-net1", bridge: "br-6780172fca2a", container: "", subnet: "", ip: "" },
    ]);
    expect(lines).toContain("-A DOCKER-BRIDGE -o br-{fwc-net1} -j DOCKER");
    expect(lines.join("\n")).not.toMatch(/127\.0\.0\.11:\d+|\[\d+:\d+\]|br-6780172fca2a/);
    expect(lines.join("\n")).toContain("127.0.0.11:<dns-port>");
  });

  it("a node of a multi-node cell has a golden of its own, apart from the one-node cell's", () => {
    const node = { address: "", subnets: [], routes: "", sysctls: {} };
    const evidence = { dockerdVersion: "Docker version 28.5.2, build 1" } as NonNullable<
      ReturnType<typeof attempt>["evidence"]
    >;
    const single = cell("1.8.11-2", "works", [], { baseline: attempt("baseline", [], { evidence }) });
    const twoNodes = cell("1.8.11-2", "works", [], {
      baseline: attempt("baseline", [], {
        evidence,
        nodes: [
          { ...node, name: "node-a" },
          { ...node, name: "node-b" },
        ],
      }),
    });
    expect(goldenKey(single)).toBe("28+/nft/curl-timeout");
    expect(goldenKey(twoNodes)).toBe("28+/nft/curl-timeout.2-nodes");
  });
});
