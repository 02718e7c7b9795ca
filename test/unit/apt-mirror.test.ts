import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { machineDebianMirror } from "../../src/harness/apt-mirror.js";

async function aptDirWith(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "fwcompat-apt-unit-"));
  await mkdir(join(dir, "sources.list.d"));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return dir;
}

describe("the machine's Debian mirror", () => {
  afterEach(() => vi.unstubAllEnvs());

  it("is absent on a machine whose apt sources name only Ubuntu archives", async () => {
    vi.stubEnv("FWCOMPAT_DEBIAN_MIRROR", "");
    const dir = await aptDirWith({
      "sources.list.d/ubuntu.sources": "Types: deb\nURIs: http://archive.example/ubuntu/\nSuites: noble\n",
      "sources.list": "deb http://ports.example/ubuntu-ports noble main\n",
    });
    expect(await machineDebianMirror(dir)).toBeUndefined();
  });

  it("is the first Debian URI, deb822 files before sources.list, without a trailing slash", async () => {
    vi.stubEnv("FWCOMPAT_DEBIAN_MIRROR", "");
    const dir = await aptDirWith({
      "sources.list.d/b.sources": "Types: deb\nURIs: http://second.example/debian/\n",
      "sources.list.d/a.sources": "URIs: http://first.example/debian-security\n\nURIs: http://first.example/debian\n",
      "sources.list": "deb http://third.example/debian bookworm main\n",
    });
    expect(await machineDebianMirror(dir)).toBe("http://first.example/debian");
  });

  it("FWCOMPAT_DEBIAN_MIRROR wins over the apt sources", async () => {
    vi.stubEnv("FWCOMPAT_DEBIAN_MIRROR", "http://override.example/debian/");
    const dir = await aptDirWith({ "sources.list": "deb http://third.example/debian bookworm main\n" });
    expect(await machineDebianMirror(dir)).toBe("http://override.example/debian");
  });
});
