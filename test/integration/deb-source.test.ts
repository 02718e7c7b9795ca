import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IPTABLES_BUILDS_DIR } from "../../src/contract/host-contract.js";
import { connectEngine } from "../../src/harness/engine.js";
import { hostImageFor } from "../../src/library/host-image-for.js";
import { LocalHttpServer } from "../support/local-http.js";
import { expectEvery } from "../support/quantifiers.js";
import { runMatrixForTest, type MatrixRun } from "../support/matrix-run.js";
import { scratchDir } from "../support/scratch.js";

// The `deb` source kind end to end: a .deb served by a server on 127.0.0.1 standing in for a
// Debian-derived archive, fetched, checked by sha256, unpacked into a host image like Debian
// suite builds, and run. No .deb of iptables with its libraries can be had offline here, so the
// test packs one with `dpkg-deb --build` from the files of the harness's own Debian 1.8.9 build
// (bookworm's iptables 1.8.9-2 and its libraries, unpacked under the build's prefix in every
// host image of a matrix that has it). Beside it, a wrong sha256, a 404 and a truncated download:
// each cell unavailable with a one-line reason, nothing of theirs in the download cache.

let server: LocalHttpServer;
let run: MatrixRun;
let cache = "";
let debHash = "";

/** bookworm's iptables 1.8.9 as the harness builds it, packed as one .deb (iptables and its libraries). */
async function packDebianBuild(dir: string): Promise<Buffer> {
  const matrix = join(dir, "source-matrix.yaml");
  await writeFile(
    matrix,
    [
      "version: 1",
      'iptables: ["1.8.9"]',
      "engines: [docker-28.5.2]",
      "daemon: [{ name: proxy-off, options: { userland-proxy: false } }]",
      "topologies: [{ name: 1-bridge, bridges: 1, basePort: 8080 }]",
      "matrix:",
      '  - { engine: [docker-28.5.2], iptables: ["1.8.9"], daemon: [proxy-off], topology: [1-bridge], scenario: [curl-timeout] }',
      "",
    ].join("\n"),
  );
  const docker = connectEngine();
  const { hostImage } = await hostImageFor(docker, { engine: "docker-28.5.2", iptables: "1.8.9", matrix }, () => {});
  const tree = join(dir, "deb-tree");
  await mkdir(join(tree, "DEBIAN"), { recursive: true });
  const container = await docker.createContainer({ Image: hostImage, Cmd: ["true"] });
  try {
    const archive = await container.getArchive({ path: `${IPTABLES_BUILDS_DIR}/1.8.9/root` });
    const untar = execa("tar", ["-x", "--strip-components=1", "-C", tree]);
    archive.pipe(untar.stdin);
    await untar;
  } finally {
    await container.remove({ force: true });
  }
  await writeFile(
    join(tree, "DEBIAN", "control"),
    "Package: iptables\nVersion: 1.8.9-2\nArchitecture: amd64\nMaintainer: fwcompat tests <t@t>\nDescription: bookworm's iptables 1.8.9-2 with its libraries, repacked for a test\n",
  );
  const deb = join(dir, "iptables_1.8.9-2_amd64.deb");
  await execa("dpkg-deb", ["--root-owner-group", "--build", tree, deb]);
  return readFile(deb);
}

beforeAll(async () => {
  const dir = await scratchDir("fwcompat-deb-");
  const deb = await packDebianBuild(dir);
  debHash = createHash("sha256").update(deb).digest("hex");
  server = await LocalHttpServer.start();
  const pool = "/pool/main/i/iptables";
  const good = server.route(`${pool}/iptables_1.8.9-2_amd64.deb`, { kind: "file", body: deb });
  const missing = server.route(`${pool}/iptables_9.9.9-1_amd64.deb`, { kind: "status", code: 404 });
  // a file name of its own: the cache is by content and name, and the good route caches the same bytes
  const truncated = server.route(`${pool}/iptables_1.8.9-2.1_amd64.deb`, {
    kind: "truncated",
    body: deb,
    sent: Math.floor(deb.length / 2),
  });
  const build = (name: string, url: string, sha256: string) =>
    `  - { name: ${name}, version: 1.8.9-2, source: { kind: deb, url: "${url}", sha256: "${sha256}" } }`;
  const matrix = [
    "version: 1",
    "iptables:",
    build("1.8.9-deb", good, debHash),
    build("deb-wrong-sha", good, "0".repeat(64)),
    build("deb-404", missing, debHash),
    build("deb-truncated", truncated, debHash),
    "engines: [docker-28.5.2]",
    "daemon: [{ name: proxy-off, options: { userland-proxy: false } }]",
    "topologies: [{ name: 1-bridge, bridges: 1, basePort: 8080 }]",
    "matrix:",
    "  - engine: [docker-28.5.2]",
    '    iptables: ["1.8.9-deb", deb-wrong-sha, deb-404, deb-truncated]',
    "    daemon: [proxy-off]",
    "    topology: [1-bridge]",
    "    scenario: [curl-timeout]",
    "",
  ].join("\n");
  await writeFile(join(dir, "matrix.yaml"), matrix);
  cache = join(dir, "download-cache");
  run = await runMatrixForTest(join(dir, "matrix.yaml"), {
    timeoutMs: 30 * 60_000,
    // the integration tier turns downloads off (vitest.config.ts); this run downloads from 127.0.0.1 only
    env: {
      FWCOMPAT_TARBALL_DIR: cache,
      FWCOMPAT_ALLOW_DOWNLOADS: "true",
      NO_PROXY: "127.0.0.1",
      no_proxy: "127.0.0.1",
    },
  });
}, 35 * 60_000);

afterAll(() => server?.stop());

describe("iptables from a .deb by URL and sha256", () => {
  it("the .deb's iptables runs in the host: its cell works (1.8.9 has no -C bug) and records the package", () => {
    const cell = run.cell("curl-timeout__dind__docker-28.5.2__1.8.9-deb-nft");
    expect(cell.status, cell.reason).toBe("works");
    expect(cell.baseline?.evidence?.iptablesPackage).toBe("iptables 1.8.9-2 (.deb by URL)");
    expectEvery(cell.baseline?.probes ?? [], (p) => p.pass, "baseline probes");
  });

  it.each([
    ["deb-wrong-sha", /: sha256 [0-9a-f]{12}… is not the pinned 000000000000…; /],
    ["deb-404", /iptables_9\.9\.9-1_amd64\.deb: HTTP 404; /],
    ["deb-truncated", /truncated/],
  ])("%s: unavailable, one line naming the URL and what went wrong", (name, pattern) => {
    const cell = run.cell(`curl-timeout__dind__docker-28.5.2__${name}-nft`);
    expect(cell.status).toBe("unavailable");
    expect(cell.reason).not.toContain("\n");
    expect(cell.reason).toMatch(
      /^iptables [\w-]+: iptables_[\d.-]+_amd64\.deb unobtainable: not in .*; http:\/\/127\.0\.0\.1:\d+\//,
    );
    expect(cell.reason).toMatch(pattern);
    expect(cell.baseline).toBeUndefined();
  });

  it("the download cache holds the good .deb only, under its hash: nothing half-written, nothing poisoned", async () => {
    expect((await readdir(cache, { recursive: true })).sort()).toEqual([
      `sha256-${debHash}`,
      join(`sha256-${debHash}`, "iptables_1.8.9-2_amd64.deb"),
    ]);
  });

  it("the end of the run says the three failed sources in one line", () => {
    expect(run.output).toMatch(
      /iptables deb-404, iptables deb-truncated and iptables deb-wrong-sha: 3 cells unavailable — sources not found here, and downloading them failed/,
    );
  });
});
