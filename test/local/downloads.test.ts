import { createHash } from "node:crypto";
import { chmod, mkdir, mkdtemp, readdir, readFile, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { archiveTreeId } from "../../src/harness/download/archive-tree.js";
import { downloadPinned, type DownloadLimits } from "../../src/harness/download/pinned-download.js";
import { obtainSource } from "../../src/harness/images/source-dir.js";
import { obtainTarball } from "../../src/harness/images/tarball-source.js";
import { LocalHttpServer, LocalProxy, type Route } from "../support/local-http.js";

// Every upstream route against a server on 127.0.0.1 standing in for the upstream site, serving files made here.
const FAST: DownloadLimits = { totalMs: 5_000, idleMs: 300, maxBytes: 1024 * 1024 };
const payload = Buffer.from("iptables release tarball stand-in\n".repeat(200));
const hashOf = (data: Buffer) => createHash("sha256").update(data).digest("hex");

let server: LocalHttpServer;
let root = "";
beforeAll(async () => {
  server = await LocalHttpServer.start();
  root = await mkdtemp(join(tmpdir(), "fwcompat-downloads-"));
});
afterAll(() => server.stop());

let cacheCount = 0;
const freshCache = () => join(root, `cache-${++cacheCount}`);
const listing = (dir: string) => readdir(dir, { recursive: true }).catch(() => [] as string[]);

/** One attempt of the tarball route from a URL serving `route`, then a clean retry from a good URL. */
async function failThenRecover(route: Route, limits = FAST) {
  const dir = freshCache();
  const request = { file: "iptables-9.9.9.tar.xz", sha256: hashOf(payload) };
  const options = { dir, mirror: undefined, allowDownloads: true, limits };
  const started = Date.now();
  const failed = await obtainTarball({ ...request, urls: [server.route(`/bad-${cacheCount}`, route)] }, options);
  const elapsedMs = Date.now() - started;
  const leftBehind = await listing(dir);
  const retried = await obtainTarball(
    { ...request, urls: [server.route(`/good-${cacheCount}`, { kind: "file", body: payload })] },
    options,
  );
  return { failed, elapsedMs, leftBehind, retried, dir };
}

function expectOneLine(result: { ok: boolean; reason?: string }, pattern: RegExp) {
  expect(result.ok).toBe(false);
  const reason = (result as { reason: string }).reason;
  expect(reason).not.toContain("\n");
  expect(reason).toMatch(
    /^iptables-9\.9\.9\.tar\.xz unobtainable: not in .*cache-\d+; http:\/\/127\.0\.0\.1:\d+\/bad-\d+: /,
  );
  expect(reason).toMatch(pattern);
}

describe("downloads pinned by sha256", () => {
  it("a download is checked, kept under its hash, and found there the next time without asking again", async () => {
    const dir = freshCache();
    const url = server.route("/iptables-9.9.9.tar.xz", { kind: "file", body: payload });
    const request = { file: "iptables-9.9.9.tar.xz", sha256: hashOf(payload), urls: [url] };
    const options = { dir, mirror: undefined, allowDownloads: true, limits: FAST };
    const first = await obtainTarball(request, options);
    expect(first).toMatchObject({ ok: true, origin: url });
    expect(first.ok && first.data.equals(payload)).toBe(true);
    const second = await obtainTarball(request, options);
    expect(second).toMatchObject({ ok: true, origin: expect.stringMatching(/^cache .*iptables-9\.9\.9\.tar\.xz$/) });
    expect(server.hits.filter((h) => h === "/iptables-9.9.9.tar.xz")).toHaveLength(1);
    expect((await listing(dir)).sort()).toEqual([
      `sha256-${hashOf(payload)}`,
      join(`sha256-${hashOf(payload)}`, "iptables-9.9.9.tar.xz"),
    ]);
  });

  it("a 404: one line, nothing in the cache, the next call clean", async () => {
    const { failed, leftBehind, retried } = await failThenRecover({ kind: "status", code: 404 });
    expectOneLine(failed, /: HTTP 404$/);
    expect(leftBehind).toEqual([]);
    expect(retried.ok).toBe(true);
  });

  it("a wrong hash: one line naming both hashes, nothing in the cache, the next call clean", async () => {
    const other = Buffer.from("another file\n");
    const { failed, leftBehind, retried } = await failThenRecover({ kind: "file", body: other });
    expectOneLine(
      failed,
      new RegExp(`: sha256 ${hashOf(other).slice(0, 12)}… is not the pinned ${hashOf(payload).slice(0, 12)}…$`),
    );
    expect(leftBehind).toEqual([]);
    expect(retried.ok).toBe(true);
  });

  it("a truncated body: one line, nothing in the cache, the next call clean", async () => {
    const { failed, leftBehind, retried } = await failThenRecover({ kind: "truncated", body: payload, sent: 1000 });
    expectOneLine(failed, /truncated/);
    expect(leftBehind).toEqual([]);
    expect(retried.ok).toBe(true);
  });

  it("a server that never answers: bounded by the idle timeout, one line, the next call clean", async () => {
    const { failed, elapsedMs, leftBehind, retried } = await failThenRecover({ kind: "silent" });
    expectOneLine(failed, /: stalled: nothing received for 0\.3s$/);
    expect(elapsedMs).toBeLessThan(3_000);
    expect(leftBehind).toEqual([]);
    expect(retried.ok).toBe(true);
  });

  it("a body that stops halfway: bounded, the partial file removed, the next call clean", async () => {
    const { failed, elapsedMs, leftBehind, retried } = await failThenRecover({
      kind: "stall-body",
      body: payload,
      sent: 500,
    });
    expectOneLine(failed, /: stalled: nothing received for 0\.3s$/);
    expect(elapsedMs).toBeLessThan(3_000);
    expect(leftBehind).toEqual([]);
    expect(retried.ok).toBe(true);
  });

  it("the whole download is bounded too, however slowly bytes trickle", async () => {
    const { failed, leftBehind } = await failThenRecover(
      { kind: "stall-body", body: payload, sent: 500 },
      { totalMs: 400, idleMs: 5_000, maxBytes: 1024 * 1024 },
    );
    expectOneLine(failed, /: no complete answer within 0\.4s$/);
    expect(leftBehind).toEqual([]);
  });

  it("a body larger than the size bound is refused", async () => {
    const { failed, leftBehind } = await failThenRecover({ kind: "file", body: payload }, { ...FAST, maxBytes: 100 });
    expectOneLine(failed, /is larger than the 100 bytes limit$/);
    expect(leftBehind).toEqual([]);
  });

  it("redirects are followed (tag archives are served from another address)", async () => {
    const target = server.route("/redirected-target", { kind: "file", body: payload });
    const url = server.route("/redirect", { kind: "redirect", to: target });
    const got = await downloadPinned({ url, dest: join(freshCache(), "f"), sha256: hashOf(payload) }, FAST);
    expect(got).toMatchObject({ ok: true, bytes: payload.length });
  });

  it("with downloads not allowed, no upstream is asked and the reason says so", async () => {
    const hitsBefore = server.hits.length;
    const result = await obtainTarball(
      { file: "x.tar.xz", sha256: hashOf(payload), urls: [server.route("/never", { kind: "file", body: payload })] },
      { dir: freshCache(), mirror: undefined, allowDownloads: false },
    );
    expect(result).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/downloads from 1 upstream URL\(s\) disabled \(settings\.allowDownloads: false\)$/),
    });
    expect(server.hits.length).toBe(hitsBefore);
  });
});

describe("proxies", () => {
  let proxy: LocalProxy;
  beforeAll(async () => {
    proxy = await LocalProxy.start();
  });
  afterAll(() => proxy.stop());

  it("HTTP_PROXY carries the request; NO_PROXY bypasses it", async () => {
    const url = server.route("/via-proxy", { kind: "file", body: payload });
    const port = new URL(server.origin).port;
    const viaProxy = await downloadPinned({ url, dest: join(freshCache(), "f"), sha256: hashOf(payload) }, FAST, {
      HTTP_PROXY: proxy.url,
    });
    expect(viaProxy.ok).toBe(true);
    expect(proxy.seen.some((line) => line.includes(`127.0.0.1:${port}`))).toBe(true);
    const seenBefore = proxy.seen.length;
    const bypassed = await downloadPinned({ url, dest: join(freshCache(), "f"), sha256: hashOf(payload) }, FAST, {
      HTTP_PROXY: proxy.url,
      NO_PROXY: "localhost,127.0.0.1",
    });
    expect(bypassed.ok).toBe(true);
    expect(proxy.seen.length).toBe(seenBefore);
  });

  it("HTTPS_PROXY is asked for an https URL (a tunnel to the host and port)", async () => {
    const port = new URL(server.origin).port;
    // the stand-in speaks plain HTTP, so the TLS handshake fails after the tunnel: the proxy saw the request all the same
    const result = await downloadPinned(
      { url: `https://127.0.0.1:${port}/tls`, dest: join(freshCache(), "f"), sha256: hashOf(payload) },
      FAST,
      { HTTPS_PROXY: proxy.url },
    );
    expect(result.ok).toBe(false);
    expect(proxy.seen).toContain(`CONNECT 127.0.0.1:${port}`);
  });
});

describe("source archives pinned by their git tree", () => {
  let repo = "";
  let tree = "";
  const git = (...args: string[]) =>
    execa("git", ["-C", repo, "-c", "user.name=t", "-c", "user.email=t@t", ...args]).then((r) => r.stdout.trim());
  const archiveOf = async (name: string, compress: string) => {
    const path = join(root, name);
    await execa("sh", ["-c", `git -C "$1" archive --prefix=engine-1.0/ HEAD | ${compress} > "$2"`, "sh", repo, path]);
    return path;
  };

  beforeAll(async () => {
    repo = join(root, "repo");
    await mkdir(join(repo, "a", "deep"), { recursive: true });
    await writeFile(join(repo, "go.mod"), "module example.org/engine\n");
    await writeFile(join(repo, "a", "deep", "file.go"), "package deep\n");
    // names that sort differently as files and as directories ("a" is a directory, "a-b" and "a.b" files)
    await writeFile(join(repo, "a-b"), "dash\n");
    await writeFile(join(repo, "a.b"), "dot\n");
    await writeFile(join(repo, "run.sh"), "#!/bin/sh\necho hi\n");
    await chmod(join(repo, "run.sh"), 0o755);
    await symlink("a/deep/file.go", join(repo, "link"));
    await execa("git", ["init", "-q", repo]);
    await git("add", ".");
    await git("commit", "-qm", "one");
    tree = await git("rev-parse", "HEAD^{tree}");
  });

  it("the tree id computed from an archive's files is git's own, whatever the compression", async () => {
    for (const [name, compress] of [
      ["plain.tar", "cat"],
      ["gz.tar.gz", "gzip -n"],
      ["gz9.tar.gz", "gzip -9"],
      ["xz.tar.xz", "xz"],
    ] as const) {
      expect(await archiveTreeId(await archiveOf(name, compress))).toMatchObject({
        ok: true,
        treeId: tree,
        prefix: "engine-1.0",
        files: 6,
      });
    }
  });

  it("a download of another compression passes by its tree and is cached under it; another tree does not", async () => {
    const gz = await archiveOf("served.tar.gz", "gzip -n");
    const url = server.route("/archive/refs/tags/v1.0.tar.gz", { kind: "file", body: await readFile(gz) });
    const dir = freshCache();
    const settings = { tarballDir: dir, allowDownloads: "auto" as const };
    // the sha256 is of the .xz file nobody serves: the tree is what pins the download
    const request = { file: "engine-v1.0.tar.xz", sha256: "0".repeat(64), urls: [url], treeId: tree };
    const got = await obtainSource(request, settings, FAST);
    expect(got).toMatchObject({ ok: true, origin: url, path: join(dir, `tree-${tree}`, "v1.0.tar.gz") });
    const again = await obtainSource(request, settings, FAST);
    expect(again).toMatchObject({ ok: true, origin: expect.stringMatching(/^cache /) });

    await writeFile(join(repo, "extra"), "changed\n");
    await git("add", ".");
    await git("commit", "-qm", "two");
    const otherTree = await git("rev-parse", "HEAD^{tree}");
    const changed = await archiveOf("changed.tar.gz", "gzip -n");
    const wrongUrl = server.route("/archive/refs/tags/v2.0.tar.gz", { kind: "file", body: await readFile(changed) });
    const wrongDir = freshCache();
    const wrong = await obtainSource(
      { ...request, urls: [wrongUrl] },
      { tarballDir: wrongDir, allowDownloads: "auto" },
      FAST,
    );
    expect(wrong.ok).toBe(false);
    const reason = (wrong as { reason: string }).reason;
    expect(reason).not.toContain("\n");
    expect(reason).toContain(
      `${wrongUrl}: its files make git tree ${otherTree.slice(0, 12)}…, not the pinned ${tree.slice(0, 12)}…`,
    );
    expect(await listing(wrongDir)).toEqual([]);
  });

  it("allowDownloads false: the archive is not downloaded and the reason says why", async () => {
    const hitsBefore = server.hits.length;
    const url = server.route("/archive/never.tar.gz", { kind: "status", code: 500 });
    const got = await obtainSource(
      { file: "engine-v1.0.tar.xz", sha256: "0".repeat(64), urls: [url], treeId: tree },
      { tarballDir: freshCache(), allowDownloads: false },
      FAST,
    );
    expect(got).toMatchObject({
      ok: false,
      reason: expect.stringMatching(
        /^engine-v1\.0\.tar\.xz unobtainable: not in .*; downloads from 1 upstream URL\(s\) disabled \(settings\.allowDownloads: false\)/,
      ),
    });
    expect(server.hits.length).toBe(hitsBefore);
  });
});
