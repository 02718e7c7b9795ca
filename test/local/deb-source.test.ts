import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { iptablesSourceSchema, type DebSource } from "../../src/config/schema.js";
import type { DownloadLimits } from "../../src/harness/download/pinned-download.js";
import { debFileName, obtainDebs } from "../../src/harness/images/deb-source.js";
import { LocalHttpServer, type Route } from "../support/local-http.js";

// The `deb` source kind's fetch and check, against a server on 127.0.0.1 standing in for a
// Debian-derived archive, serving .debs built here with dpkg-deb.
const FAST: DownloadLimits = { totalMs: 5_000, idleMs: 300, maxBytes: 16 * 1024 * 1024 };
const hashOf = (data: Buffer) => createHash("sha256").update(data).digest("hex");

let server: LocalHttpServer;
let root = "";
let iptablesDeb: Buffer;
let libraryDeb: Buffer;

async function buildDeb(name: string, version: string, files: Record<string, string>): Promise<Buffer> {
  const tree = join(root, `${name}-tree`);
  await mkdir(join(tree, "DEBIAN"), { recursive: true });
  await writeFile(
    join(tree, "DEBIAN", "control"),
    `Package: ${name}\nVersion: ${version}\nArchitecture: amd64\nMaintainer: test <t@t>\nDescription: stand-in\n`,
  );
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(tree, path, ".."), { recursive: true });
    await writeFile(join(tree, path), text);
  }
  const out = join(root, `${name}.deb`);
  await execa("dpkg-deb", ["--root-owner-group", "--build", tree, out]);
  return readFile(out);
}

beforeAll(async () => {
  server = await LocalHttpServer.start();
  root = await mkdtemp(join(tmpdir(), "fwcompat-deb-"));
  iptablesDeb = await buildDeb("iptables", "1.8.9-2", { "usr/sbin/xtables-nft-multi": "#!/bin/sh\n" });
  libraryDeb = await buildDeb("libxtables12", "1.8.9-2", { "usr/lib/x86_64-linux-gnu/libxtables.so.12": "elf\n" });
});
afterAll(() => server.stop());

let count = 0;
const listing = (dir: string) => readdir(dir, { recursive: true }).catch(() => [] as string[]);

/** A deb source whose iptables .deb is served as `route`, and whose library .deb is served whole. */
function sourceServing(route: Route, sha256 = hashOf(iptablesDeb)) {
  const n = ++count;
  return iptablesSourceSchema.parse({
    kind: "deb",
    url: server.route(`/pool/main/i/iptables-${n}/iptables_1.8.9-2_amd64.deb`, route),
    sha256,
    libraries: [
      {
        url: server.route(`/pool/main/i/iptables-${n}/libxtables12_1.8.9-2_amd64.deb`, {
          kind: "file",
          body: libraryDeb,
        }),
        sha256: hashOf(libraryDeb),
      },
    ],
  }) as DebSource;
}

const settingsIn = (dir: string) => ({ tarballDir: dir, allowDownloads: "auto" as const });

describe("a .deb by URL and sha256", () => {
  it("fetches the package and its libraries, checked, then finds them in the cache", async () => {
    const dir = join(root, "cache-ok");
    const source = sourceServing({ kind: "file", body: iptablesDeb });
    const got = await obtainDebs(source, settingsIn(dir), FAST);
    expect(
      got.ok && got.debs.map((d) => [d.file, d.data.equals(d.file.startsWith("iptables") ? iptablesDeb : libraryDeb)]),
    ).toEqual([
      ["iptables_1.8.9-2_amd64.deb", true],
      ["libxtables12_1.8.9-2_amd64.deb", true],
    ]);
    const hits = server.hits.length;
    const again = await obtainDebs(source, settingsIn(dir), FAST);
    expect(again.ok && again.debs.every((d) => d.origin.startsWith("cache "))).toBe(true);
    expect(server.hits.length).toBe(hits);
    // what was downloaded is a real package: dpkg-deb reads it back from the cache
    const cached = join(dir, `sha256-${hashOf(iptablesDeb)}`, "iptables_1.8.9-2_amd64.deb");
    expect((await execa("dpkg-deb", ["-f", cached, "Package", "Version"])).stdout).toBe(
      "Package: iptables\nVersion: 1.8.9-2",
    );
  });

  const failures: Array<[string, () => ReturnType<typeof sourceServing>, RegExp]> = [
    [
      "a wrong sha256",
      () => sourceServing({ kind: "file", body: iptablesDeb }, "a".repeat(64)),
      /: sha256 [0-9a-f]{12}… is not the pinned aaaaaaaaaaaa…; /,
    ],
    ["a 404", () => sourceServing({ kind: "status", code: 404 }), /: HTTP 404; /],
    [
      "a truncated download",
      () => sourceServing({ kind: "truncated", body: iptablesDeb, sent: 100 }),
      /: truncated|connection closed early \(truncated\)/,
    ],
  ];
  for (const [what, source, pattern] of failures) {
    it(`${what}: one line, unavailable before anything is unpacked, the cache clean, the next call clean`, async () => {
      const dir = join(root, `cache-${what.replace(/\W+/g, "-")}`);
      const failed = await obtainDebs(source(), settingsIn(dir), FAST);
      expect(failed.ok).toBe(false);
      const reason = (failed as { reason: string }).reason;
      expect(reason).not.toContain("\n");
      expect(reason).toMatch(
        /^iptables_1\.8\.9-2_amd64\.deb unobtainable: not in .*; http:\/\/127\.0\.0\.1:\d+\/pool\/main\/i\/iptables-\d+\/iptables_1\.8\.9-2_amd64\.deb: /,
      );
      expect(reason).toMatch(pattern);
      expect(await listing(dir)).toEqual([]);
      const retried = await obtainDebs(sourceServing({ kind: "file", body: iptablesDeb }), settingsIn(dir), FAST);
      expect(retried.ok).toBe(true);
    });
  }

  it("names a .deb by its URL's file name, an epoch's %3a decoded and anything unsafe replaced", () => {
    expect(debFileName("http://127.0.0.1/pool/i/iptables_1%3a1.8.9-2_amd64.deb")).toBe("iptables_1_1.8.9-2_amd64.deb");
    expect(debFileName("http://127.0.0.1/get?x=1")).toBe("get.deb");
  });
});
