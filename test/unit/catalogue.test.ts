import { readdirSync, readFileSync } from "node:fs";
import { isDeepStrictEqual } from "node:util";
import { describe, expect, it } from "vitest";
import { loadCatalogueFile, parseCatalogueText } from "../../src/config/catalogue.js";
import { parseMatrixText } from "../../src/config/load.js";
import { KNOWN_NAMES } from "../../src/run/registry.js";
import { packagedCatalogueFile } from "../../src/run/session/catalogue-file.js";
import { expectEvery } from "../support/quantifiers.js";
import { thrown } from "../support/thrown.js";

const repo = new URL("../../", import.meta.url);
const read = (path: string) => readFileSync(new URL(path, repo), "utf8");
const catalogue = loadCatalogueFile(packagedCatalogueFile());

/** A matrix around the given `iptables:` and `engines:` sections; its block names `block`'s builds. */
const matrixText = (iptables: string, engines: string, block = '["1.8.11"]') => `version: 1
${iptables}
${engines}
daemon: [{ name: proxy-off, options: { userland-proxy: false } }]
topologies: [{ name: 1-bridge, bridges: 1, basePort: 8080 }]
matrix:
  - engine: [docker-28.5.2]
    iptables: ${block}
    daemon: [proxy-off]
    topology: [1-bridge]
    scenario: [curl-timeout]
`;

describe("the shipped catalogue", () => {
  it("is valid and knows the builds and engines the default matrix runs", () => {
    expect([...catalogue.iptables.keys()]).toEqual([
      "1.8.9",
      "1.8.10",
      "1.8.11",
      "1.8.11-2",
      "1.8.11+fix",
      "1.8.12",
      "1.8.13",
      "1.8.13-1",
    ]);
    expect([...catalogue.engines.keys()]).toEqual([
      "docker-20.10.24",
      "docker-26.1.5",
      "docker-28.5.2",
      "docker-28.0.1",
      "docker-29.7.2",
    ]);
  });

  it("is shipped in the package", () => {
    const { files } = JSON.parse(read("package.json")) as { files: string[] };
    expect(files).toEqual(expect.arrayContaining(["catalogue.yaml", "catalogue.schema.json"]));
  });

  it("gives the default matrix exactly its entries", () => {
    const matrix = parseMatrixText(read("matrix.yaml"), "matrix.yaml", KNOWN_NAMES);
    expectEvery(
      matrix.iptables,
      (build) => isDeepStrictEqual(build, catalogue.iptables.get(build.name)),
      "default matrix builds",
    );
    expectEvery(
      matrix.engines,
      (engine) => isDeepStrictEqual(engine, catalogue.engines.get(engine.name)),
      "default matrix engines",
    );
  });

  it("holds each pinned artifact once: no other matrix of the repository writes a catalogue sha256 again", () => {
    const sha256s = [...catalogue.iptables.values(), ...catalogue.engines.values()]
      .flatMap((entry) => [entry.source, ...("alternatives" in entry ? entry.alternatives : [])])
      .flatMap((source) => ("sha256" in source ? [source.sha256] : []));
    expect(sha256s.length).toBeGreaterThanOrEqual(3);
    const fixtures = readdirSync(new URL("test/fixtures/matrices/", repo))
      // the bad-* fixtures stay as written (their error positions are asserted); git-sources.yaml
      // replaces 1.8.10 with a route that cannot be had, on purpose
      .filter((f) => !f.startsWith("bad-") && f !== "git-sources.yaml")
      .map((f) => `test/fixtures/matrices/${f}`);
    const bench = readdirSync(new URL("bench/", repo))
      .filter((f) => f.endsWith(".yaml"))
      .map((f) => `bench/${f}`);
    const matrices = ["matrix.yaml", "matrix.vm-wide.yaml", "matrix.scenarios-wide.yaml", ...bench, ...fixtures];
    expectEvery(matrices, (file) => sha256s.every((sha) => !read(file).includes(sha)), "matrices");
  });
});

describe("a matrix picks from the catalogue", () => {
  it("by name: a name stands for the catalogue's whole entry", () => {
    const matrix = parseMatrixText(
      matrixText('iptables: ["1.8.11", "1.8.11-2"]', "engines: [docker-28.5.2]"),
      "m.yaml",
      KNOWN_NAMES,
    );
    expect(matrix.iptables).toEqual([catalogue.iptables.get("1.8.11"), catalogue.iptables.get("1.8.11-2")]);
    expect(matrix.iptables[0]?.source).toMatchObject({ kind: "tarball", file: "iptables-1.8.11.tar.xz" });
    expect(matrix.engines).toEqual([catalogue.engines.get("docker-28.5.2")]);
  });

  it("with entries of its own beside names; one named like a catalogue entry replaces it", () => {
    const matrix = parseMatrixText(
      matrixText(
        `iptables:
  - "1.8.11-2"
  - { name: "1.8.11", version: 1.8.11, source: { kind: debian, suite: sid, version: 1.8.11-7 } }
  - { name: mine, version: 1.8.12, source: { kind: git, repository: my.bundle, ref: v1.8.12, commit: b176df1c23b458b4510034281a86f0a96341d7a1 } }`,
        "engines: [docker-28.5.2]",
        '["1.8.11", "mine"]',
      ),
      "m.yaml",
      KNOWN_NAMES,
    );
    expect(matrix.iptables.map((b) => [b.name, b.source.kind])).toEqual([
      ["1.8.11-2", "debian"],
      ["1.8.11", "debian"],
      ["mine", "git"],
    ]);
    expect(matrix.iptables[1]).not.toEqual(catalogue.iptables.get("1.8.11"));
    expect(matrix.iptables[1]?.alternatives).toEqual([]);
  });

  it("an unknown name is one line at its file:line:col, listing the catalogue's names", () => {
    const message = thrown(() =>
      parseMatrixText(matrixText('iptables: ["1.8.11", "1.8.99"]', "engines: [docker-28.5.2]"), "m.yaml", KNOWN_NAMES),
    );
    expect(message).toBe(
      "m.yaml:2:22: unknown iptables build '1.8.99'; catalogue.yaml has: 1.8.9, 1.8.10, 1.8.11, 1.8.11-2, 1.8.11+fix, 1.8.12, 1.8.13, 1.8.13-1 (or write the whole entry here)",
    );
    const engine = thrown(() =>
      parseMatrixText(
        matrixText('iptables: ["1.8.11"]', "engines:\n  - docker-28.5.2\n  - docker-30.0.0"),
        "m.yaml",
        KNOWN_NAMES,
      ),
    );
    expect(engine).toMatch(/^m\.yaml:5:5: unknown engine 'docker-30\.0\.0'; catalogue\.yaml has: docker-20\.10\.24, /);
  });

  it("a bad entry of the matrix's own is still shown where it is written", () => {
    const message = thrown(() =>
      parseMatrixText(
        matrixText(
          'iptables:\n  - { name: "1.8.11", version: 1.8.11, source: { kind: tarball, file: iptables-1.8.11.tar.xz, sha256: abc } }',
          "engines: [docker-28.5.2]",
        ),
        "m.yaml",
        KNOWN_NAMES,
      ),
    );
    expect(message).toBe("m.yaml:3:103: iptables.0.source.sha256: a sha256 is 64 lowercase hex digits");
  });
});

describe("a catalogue file", () => {
  it("with a bad entry is reported at the catalogue's own file:line:col", () => {
    const text = `version: 1
engines:
  - name: docker-28.5.2
    version: "28.5"
    source: { kind: debian, suite: sid, version: 28.5.2 }
`;
    expect(thrown(() => parseCatalogueText(text, "my-catalogue.yaml"))).toBe(
      "my-catalogue.yaml:4:14: engines.0.version: an engine version such as 28.5.2",
    );
  });

  it("naming an entry twice is reported at the second name", () => {
    const text = `version: 1
iptables:
  - { name: "1.8.11-2", version: 1.8.11-2, source: { kind: debian, suite: trixie, version: 1.8.11-2 } }
  - { name: "1.8.11-2", version: 1.8.11-2, source: { kind: debian, suite: sid, version: 1.8.11-2 } }
`;
    expect(thrown(() => parseCatalogueText(text, "my-catalogue.yaml"))).toBe(
      "my-catalogue.yaml:4:13: duplicate name '1.8.11-2' in iptables; names must be unique",
    );
  });

  it("that cannot be read is one line naming it", () => {
    const missing = new URL("test/fixtures/no-such-catalogue.yaml", repo).pathname;
    expect(thrown(() => loadCatalogueFile(missing))).toBe(`${missing}: cannot read the catalogue (ENOENT)`);
  });
});
