import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { applyFilters, expandMatrix, namesOf, parseFilters, scenarioLabel } from "../../src/config/expand.js";
import { parseMatrixText } from "../../src/config/load.js";
import { KNOWN_NAMES } from "../../src/run/registry.js";
import { SCENARIOS } from "../../scenarios/index.js";
import { expectEvery } from "../support/quantifiers.js";

const dir = new URL("../fixtures/matrices/", import.meta.url);
const read = (name: string) => readFileSync(new URL(name, dir), "utf8");
const parse = (name: string) => parseMatrixText(read(name), name, KNOWN_NAMES);

describe("matrix expansion", () => {
  it("crosses each block's axes and merges fixes of a cell named twice", () => {
    const cells = expandMatrix(parse("valid-small.yaml"));
    expect(cells.map((c) => c.id).sort()).toEqual([
      "curl-timeout__dind__docker-28.5.2__1.8.11-2-nft__proxy-off__3-bridges",
      "curl-timeout__dind__docker-28.5.2__1.8.11-2-nft__proxy-on__3-bridges",
      "curl-timeout__dind__docker-28.5.2__1.8.11-nft__proxy-off__3-bridges",
      "curl-timeout__dind__docker-28.5.2__1.8.11-nft__proxy-on__3-bridges",
      "flush-then-run+filter__dind__docker-28.5.2__1.8.11-nft__proxy-off__3-bridges",
    ]);
    const merged = cells.find((c) => c.id === "curl-timeout__dind__docker-28.5.2__1.8.11-nft__proxy-off__3-bridges");
    expect(merged?.fixes).toEqual(["restart-dockerd", "userland-proxy-on"]);
    const flush = cells.find((c) => c.scenario === "flush-then-run");
    expect(flush?.variant).toBe("filter");
    expect(flush?.topology.containersPerBridge).toBe(1);
  });

  it("a scenario named without its variant gets its declared default, in the cell id and the label", () => {
    const text = read("valid-small.yaml").replace(
      'scenario: [curl-timeout, "flush-then-run:filter"]',
      'scenario: [curl-timeout, flush-then-run, ip-forward-off, "flush-then-run:filter"]',
    );
    const cells = expandMatrix(parseMatrixText(text, "valid-small.yaml", KNOWN_NAMES)).filter(
      (c) => c.iptables.name === "1.8.11" && c.daemon.name === "proxy-off",
    );
    expect(cells.map((c) => [c.id, scenarioLabel(namesOf(c))])).toEqual([
      ["curl-timeout__dind__docker-28.5.2__1.8.11-nft__proxy-off__3-bridges", "curl-timeout"],
      ["flush-then-run+filter__dind__docker-28.5.2__1.8.11-nft__proxy-off__3-bridges", "flush-then-run:filter"],
      ["ip-forward-off+after__dind__docker-28.5.2__1.8.11-nft__proxy-off__3-bridges", "ip-forward-off:after"],
    ]);
    expect(cells.find((c) => c.scenario === "ip-forward-off")?.variant).toBe("after");
  });

  it("every built-in scenario with variants has a default among them, and a matrix naming it alone runs that one", () => {
    const varied = [...SCENARIOS.values()].filter((s) => s.variants.length > 0);
    expect(varied.map((s) => s.name)).toEqual(
      expect.arrayContaining(["ufw", "foreign-bridge", "br-netfilter-off", "firewalld-reload", "firewall-reload"]),
    );
    expect(
      varied
        .filter((s) => !s.defaultVariant || !(s.variants as readonly string[]).includes(s.defaultVariant))
        .map((s) => s.name),
    ).toEqual([]);
    const names = varied.map((s) => s.name);
    const text = read("valid-small.yaml").replace(
      'scenario: [curl-timeout, "flush-then-run:filter"]',
      `scenario: [${names.join(", ")}]`,
    );
    const cells = expandMatrix(parseMatrixText(text, "valid-small.yaml", KNOWN_NAMES)).filter(
      (c) => c.iptables.name === "1.8.11" && c.daemon.name === "proxy-off",
    );
    const named = cells.filter((c) => names.includes(c.scenario));
    expect(named.map((c) => scenarioLabel(namesOf(c))).sort()).toEqual(
      varied.map((s) => `${s.name}:${s.defaultVariant}`).sort(),
    );
  });

  it("filters: same key means either value, different keys mean both", () => {
    const cells = expandMatrix(parse("valid-small.yaml"));
    const picked = applyFilters(
      cells,
      parseFilters(["iptables=1.8.11", "daemon=proxy-off", "daemon=proxy-on", "scenario=curl-timeout"]),
    );
    expect(picked.map((c) => c.daemon.name).sort()).toEqual(["proxy-off", "proxy-on"]);
    expectEvery(picked, (c) => c.iptables.name === "1.8.11");
    expect(applyFilters(cells, parseFilters(["scenario=flush-then-run:filter"]))).toHaveLength(1);
  });

  it("a filter that matches nothing, or is malformed, is a user error", () => {
    const cells = expandMatrix(parse("valid-small.yaml"));
    expect(() => applyFilters(cells, parseFilters(["engine=docker-99"]))).toThrow(
      /--filter engine=docker-99 matches none of the 5 cells/,
    );
    expect(() => parseFilters(["colour=blue"])).toThrow(/use key=value with key one of cell, provider, engine/);
    expect(() => parseFilters(["engine="])).toThrow(/use key=value/);
  });

  it("the repository's matrices and expectations are valid", async () => {
    const text = readFileSync(new URL("../../matrix.yaml", import.meta.url), "utf8");
    const cells = expandMatrix(parseMatrixText(text, "matrix.yaml", KNOWN_NAMES));
    expect(
      cells
        .filter((c) => c.provider === "vagrant")
        .map((c) => c.iptables.name)
        .sort(),
    ).toEqual(["1.8.11", "1.8.11-2"]);
    const wide = readFileSync(new URL("../../matrix.vm-wide.yaml", import.meta.url), "utf8");
    expectEvery(
      expandMatrix(parseMatrixText(wide, "matrix.vm-wide.yaml", KNOWN_NAMES)),
      (c) => c.provider === "vagrant",
    );
    const scenariosWide = readFileSync(new URL("../../matrix.scenarios-wide.yaml", import.meta.url), "utf8");
    const hostFirewallCells = expandMatrix(parseMatrixText(scenariosWide, "matrix.scenarios-wide.yaml", KNOWN_NAMES));
    expect(new Set(hostFirewallCells.map((c) => c.engine.name))).toEqual(new Set(["docker-26.1.5", "docker-28.5.2"]));
    expect(hostFirewallCells).toHaveLength(24);
    const breakages = readFileSync(new URL("../../matrix.2026.yaml", import.meta.url), "utf8");
    const breakageCells = expandMatrix(parseMatrixText(breakages, "matrix.2026.yaml", KNOWN_NAMES));
    expect(
      breakageCells.filter((c) => c.provider === "vagrant").map((c) => `${c.scenario}:${c.iptables.name}`),
    ).toEqual(["secure-exec:1.8.12"]);
    // no-legacy-kernel's dind control, the twins of matrix.vm-wide.yaml's VM cells
    expect(
      breakageCells.filter((c) => c.scenario === "no-legacy-kernel").map((c) => `${c.provider}:${c.variant}`),
    ).toEqual(["dind:kind", "dind:dind-entrypoint"]);
    expect(new Set(breakageCells.map((c) => c.engine.name))).toEqual(
      new Set(["docker-28.5.2", "docker-29.7.2", "docker-26.1.5"]),
    );
    const { parseYamlWithSchema } = await import("../../src/config/yaml-schema.js");
    const { expectationsFileSchema } = await import("../../src/report/gate.js");
    const expectations = readFileSync(new URL("../../expectations.yaml", import.meta.url), "utf8");
    expect(
      parseYamlWithSchema(expectations, "expectations.yaml", expectationsFileSchema).data.expectations.length,
    ).toBe(17);
  });
});

describe("bad matrix files", () => {
  const expected: Record<string, RegExp> = {
    "bad-yaml-syntax.yaml": /^bad-yaml-syntax\.yaml:\d+:\d+: YAML syntax error: /,
    "bad-unknown-key.yaml":
      /^bad-unknown-key\.yaml:21:14: topologies\.0: unknown key 'bridgez'; remove it or check its spelling$/,
    "bad-wrong-type.yaml": /^bad-wrong-type\.yaml:20:14: topologies\.0\.bridges: .*expected number/i,
    "bad-unknown-build.yaml":
      /^bad-unknown-build\.yaml:\d+:\d+: unknown iptables '1\.8\.12'; declared: 1\.8\.11, 1\.8\.11-2$/,
    "bad-bad-sha256.yaml":
      /^bad-bad-sha256\.yaml:5:68: iptables\.0\.source\.sha256: a sha256 is 64 lowercase hex digits$/,
    "bad-duplicate-name.yaml":
      /^bad-duplicate-name\.yaml:\d+:\d+: duplicate name 'proxy-off' in daemon; names must be unique$/,
    "bad-empty-axis.yaml": /^bad-empty-axis\.yaml:\d+:\d+: matrix\.0\.scenario: an axis needs at least one value$/,
    "bad-zero-bridges.yaml":
      /^bad-zero-bridges\.yaml:20:14: topologies\.0\.bridges: a topology needs at least 1 user bridge$/,
    "bad-port-out-of-range.yaml":
      /^bad-port-out-of-range\.yaml:21:15: topologies\.0\.basePort: basePort must leave room below 65535$/,
    "bad-unknown-scenario.yaml":
      /^bad-unknown-scenario\.yaml:\d+:\d+: unknown scenario 'curl-timout'; known: curl-timeout, flush-then-run, ip-forward-off, firewall-reload, ufw, foreign-bridge, br-netfilter-off, firewalld-reload, secure-exec, nft-self-repair, no-nft, no-legacy-kernel, snat-lost$/,
    "bad-unknown-fix.yaml": /^bad-unknown-fix\.yaml:\d+:\d+: unknown fix 'reboot-the-world'; known: /,
    "bad-unknown-variant.yaml":
      /^bad-unknown-variant\.yaml:\d+:\d+: scenario 'flush-then-run' has no variant 'everything'; variants: filter, filter\+nat, all, nft-flush-ruleset$/,
    "bad-unknown-source-kind.yaml": /^bad-unknown-source-kind\.yaml:8:21: iptables\.1\.source\.kind: /,
    "bad-bad-version.yaml": /^bad-bad-version\.yaml:1:10: version: /,
    "bad-alias-bomb.yaml":
      /^bad-alias-bomb\.yaml:4:8: YAML aliases expand beyond 100 nodes \(an alias bomb\?\); write the values out instead$/,
    "bad-short-commit.yaml": /^bad-short-commit\.yaml:5:86: iptables\.0\.source\.commit: a full 40-digit commit id$/,
    "bad-own-host-dockerfile.yaml":
      /^bad-own-host-dockerfile\.yaml:13:45: no Dockerfile at \/.*hosts\/nowhere\/Dockerfile; dockerfile is relative to bad-own-host-dockerfile\.yaml$/,
  };
  const fixtures = readdirSync(dir).filter((f) => f.startsWith("bad-"));

  it("every bad fixture has an expected message", () => {
    expect(fixtures.sort()).toEqual(Object.keys(expected).sort());
  });

  for (const [file, message] of Object.entries(expected)) {
    it(`${file} gives one line with file:line:col`, () => {
      let caught: Error | undefined;
      try {
        parse(file);
      } catch (error) {
        caught = error as Error;
      }
      expect(caught?.name).toBe("UserError");
      expect(caught?.message).toMatch(message);
      expect(caught?.message).not.toContain("\n");
    });
  }
});

describe("matrix.schema.json", () => {
  it("is the one generated from the zod schema (run `npm run schema` after changing it)", async () => {
    const { z } = await import("zod");
    const { matrixFileSchema } = await import("../../src/config/schema.js");
    const committed = JSON.parse(readFileSync(new URL("../../matrix.schema.json", import.meta.url), "utf8"));
    expect(committed).toEqual(JSON.parse(JSON.stringify(z.toJSONSchema(matrixFileSchema, { io: "input" }))));
  });
});

describe("catalogue.schema.json", () => {
  it("is the one generated from the catalogue's zod schema (run `npm run schema` after changing it)", async () => {
    const { z } = await import("zod");
    const { catalogueFileSchema } = await import("../../src/config/schema.js");
    const committed = JSON.parse(readFileSync(new URL("../../catalogue.schema.json", import.meta.url), "utf8"));
    expect(committed).toEqual(JSON.parse(JSON.stringify(z.toJSONSchema(catalogueFileSchema, { io: "input" }))));
  });
});
