import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { declarativeScenario } from "../../scenarios/declarative.js";
import type { ScenarioContext, Target } from "../../src/api/index.js";
import { expandMatrix } from "../../src/config/expand.js";
import { loadMatrixFile, parseMatrixText } from "../../src/config/load.js";
import { KNOWN_NAMES } from "../../src/run/registry.js";

const USER = new URL("../fixtures/user-scenario/", import.meta.url).pathname;
const userMatrix = readFileSync(join(USER, "matrix.yaml"), "utf8");

/** A throwaway folder holding a matrix (the user fixture's, with changes) and scenario files. */
function workspace(files: Record<string, string>, matrixEdit: (text: string) => string = (t) => t): string {
  const dir = mkdtempSync(join(tmpdir(), "fwcompat-decl-"));
  mkdirSync(join(dir, "scenarios.d"));
  writeFileSync(
    join(dir, "matrix.yaml"),
    matrixEdit(userMatrix.replace("scenario: [harden-web, flush-forward]", "scenario: [mine]")),
  );
  writeFileSync(join(dir, "fw.sh"), "#!/bin/sh\niptables -F FORWARD\n");
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

async function problem(dir: string): Promise<string> {
  try {
    await loadMatrixFile(join(dir, "matrix.yaml"), KNOWN_NAMES);
  } catch (error) {
    expect((error as Error).name).toBe("UserError");
    expect((error as Error).message).not.toContain("\n");
    return (error as Error).message.replace(`${dir}/`, "");
  }
  throw new Error("the matrix loaded without a problem");
}

const scenario = (body: string) => `name: mine\nbreak:\n  run: [sh /fw.sh]\n${body}`;

describe("declarative scenarios: loading", () => {
  it("loads the user fixture: one scenario per file, files read, cells for each", async () => {
    const matrix = await loadMatrixFile(join(USER, "matrix.yaml"), KNOWN_NAMES);
    expect(matrix.scenarios.map((s) => s.name)).toEqual(["flush-forward", "harden-web"]);
    const harden = matrix.scenarios.find((s) => s.name === "harden-web");
    expect(harden?.source).toBe(join(USER, "scenarios.d/harden-web.yaml"));
    expect(Buffer.from(harden?.files[0]?.base64 ?? "", "base64").toString()).toBe(
      readFileSync(join(USER, "harden.sh"), "utf8"),
    );
    expect(harden?.files[0]).toMatchObject({ to: "/usr/local/sbin/harden.sh", mode: "0755" });
    expect(expandMatrix(matrix).map((c) => c.id)).toEqual([
      "harden-web__dind__docker-28.5.2__1.8.11-2-nft__proxy-off__2-bridges",
      "flush-forward__dind__docker-28.5.2__1.8.11-2-nft__proxy-off__2-bridges",
    ]);
  });

  it("accepts scenarios inline in the matrix file", () => {
    const text = userMatrix
      .replace(
        "scenarioDir: scenarios.d",
        "scenarios:\n  - name: inline-one\n    break: { run: [iptables -F FORWARD] }",
      )
      .replace("[harden-web, flush-forward]", "[inline-one]");
    const matrix = parseMatrixText(text, join(USER, "matrix.yaml"), KNOWN_NAMES);
    expect(matrix.scenarios.map((s) => [s.name, s.break.when, s.source])).toEqual([
      ["inline-one", "after-deploy", join(USER, "matrix.yaml")],
    ]);
  });

  const bad: Array<[string, Record<string, string>, RegExp, ((t: string) => string)?]> = [
    [
      "an unknown key, where it is written",
      { "scenarios.d/mine.yaml": scenario("brake: yes\n") },
      /^scenarios\.d\/mine\.yaml:4:8: unknown key 'brake'; remove it or check its spelling$/,
    ],
    [
      "a file that is not there",
      { "scenarios.d/mine.yaml": scenario("files:\n  - { from: nope.sh, to: /usr/local/sbin/nope.sh }\n") },
      /^scenarios\.d\/mine\.yaml:5:13: cannot read '.*\/scenarios\.d\/nope\.sh'; paths are relative to /,
    ],
    [
      "a relative destination",
      { "scenarios.d/mine.yaml": scenario("files:\n  - { from: ../fw.sh, to: fw.sh }\n") },
      /^scenarios\.d\/mine\.yaml:5:27: files\.0\.to: an absolute file path inside the host/,
    ],
    [
      "an expectation about a container that is not published",
      {
        "scenarios.d/mine.yaml": scenario(
          "deploy:\n  - { name: web, publish: 8080 }\n  - { name: db }\nexpect:\n  - { container: db, expect: blocked }\n",
        ),
      },
      /^scenarios\.d\/mine\.yaml:8:18: no published container 'db'; published: web$/,
    ],
    [
      "because on a reachable expectation",
      { "scenarios.d/mine.yaml": scenario("expect:\n  - { container: n0c1, expect: reachable, because: x }\n") },
      /^scenarios\.d\/mine\.yaml:5:52: because names the policy/,
    ],
    [
      "a misspelt vantage, naming the ones there are",
      { "scenarios.d/mine.yaml": scenario("expect:\n  - { container: n0c1, expect: blocked, vantage: externel }\n") },
      /^scenarios\.d\/mine\.yaml:5:50: expect\.0\.vantage: Invalid option: expected one of "localhost"\|"host-ip"\|"external"$/,
    ],
    [
      "a built-in's name",
      { "scenarios.d/mine.yaml": "name: ufw\nbreak: { run: [x] }\n" },
      /^scenarios\.d\/mine\.yaml:1:7: 'ufw' is a built-in scenario; give yours another name$/,
    ],
    [
      "a break without commands",
      { "scenarios.d/mine.yaml": "name: mine\nbreak: { run: [] }\n" },
      /^scenarios\.d\/mine\.yaml:2:15: break\.run: break needs at least one command$/,
    ],
    [
      "the same name twice",
      { "scenarios.d/a.yaml": scenario(""), "scenarios.d/b.yaml": scenario("") },
      /^scenarios\.d\/b\.yaml:1:7: scenario 'mine' is already declared in .*a\.yaml; names must be unique$/,
    ],
    [
      "a missing scenario folder",
      {},
      /^matrix\.yaml:\d+:\d+: cannot read the scenario folder '.*\/elsewhere'; scenarioDir is relative to /,
      (t) => t.replace("scenarioDir: scenarios.d", "scenarioDir: elsewhere"),
    ],
    [
      "a matrix naming a scenario nobody declared",
      { "scenarios.d/other.yaml": scenario("").replace("mine", "other") },
      /^matrix\.yaml:\d+:\d+: unknown scenario 'mine'; known: .*secure-exec, nft-self-repair, no-nft, no-legacy-kernel, snat-lost, other$/,
    ],
  ];
  for (const [what, files, message, edit] of bad) {
    it(`rejects ${what} with one line at file:line:col`, async () => {
      expect(await problem(workspace(files, edit))).toMatch(message);
    });
  }
});

describe("declarative scenarios: probes", () => {
  const target = (container: string, hostPort?: number): Target => ({
    container,
    network: "front",
    bridge: "br-x",
    subnet: "10.78.0.0/24",
    ip: "10.78.0.2",
    hostPort,
  });
  const ctx = (targets: Target[]) =>
    ({ targets, settings: { probeTimeoutMs: 3000 }, host: { address: "172.30.0.2" } }) as unknown as ScenarioContext;

  it("applies each expectation to its container and vantages; everything else must be reachable", async () => {
    const matrix = await loadMatrixFile(join(USER, "matrix.yaml"), KNOWN_NAMES);
    const def = matrix.scenarios.find((s) => s.name === "harden-web");
    if (!def) throw new Error("fixture scenario missing");
    const specs = declarativeScenario(def).probes(ctx([target("web", 8080), target("admin", 8081), target("db")]));
    const at = (container: string, vantage: string) =>
      specs.find((s) => s.vantage === vantage && s.target.startsWith(`front/${container} `));
    expect(at("admin", "external")).toMatchObject({
      expect: "blocked",
      guard: "harden.sh drops 8081 from outside in DOCKER-USER",
    });
    expect(at("admin", "localhost")?.expect).toBe("reachable");
    expect(at("web", "external")?.expect).toBe("reachable");
    expect(specs.filter((s) => s.target.includes("/db "))).toEqual([]);
  });

  it("an expectation that meets no running published container ends the attempt instead of passing on nothing", () => {
    const def = parseMatrixText(
      userMatrix
        .replace(
          "scenarioDir: scenarios.d",
          "scenarios:\n  - name: typo\n    break: { run: [x] }\n    expect: [{ container: n9c9, expect: blocked }]",
        )
        .replace("[harden-web, flush-forward]", "[typo]"),
      "m.yaml",
      KNOWN_NAMES,
    ).scenarios[0];
    if (!def) throw new Error("inline scenario missing");
    expect(() => declarativeScenario(def).probes(ctx([target("n0c1", 8080)]))).toThrow(
      /expects traffic to n9c9, but no such published container runs; running: n0c1/,
    );
  });
});
