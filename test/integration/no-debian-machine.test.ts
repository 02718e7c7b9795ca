import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cellResultSchema } from "../../src/results/schema.js";
import { containersCreatedBy, labelledContainers, runCli } from "../support/cli.js";
import { scratchDir } from "../support/scratch.js";
import { expectEvery } from "../support/quantifiers.js";

/**
 * A machine like GitHub's Ubuntu runners or a Fedora laptop: apt sources without a Debian
 * mirror (FWCOMPAT_APT_DIR points at such a configuration) and a registry that serves
 * `debian:<suite>`. Where no registry is reachable, a local debian:trixie image stands in
 * for the pulled one: the base this machine debootstrapped, tagged for the test and untagged
 * after. Like a real Debian image it carries its own apt sources, which name the mirror the
 * builds then use.
 */
const STAND_IN = "debian:trixie";
let aptDir = "";
let taggedByUs = false;

const imageExists = async (ref: string) =>
  (await execa("docker", ["image", "inspect", ref], { reject: false })).exitCode === 0;

/** The environment of a machine without a Debian mirror: no mirror override, apt sources without Debian. */
function noDebianEnv(): Record<string, string> {
  const env: Record<string, string> = { ...(process.env as Record<string, string>), FWCOMPAT_APT_DIR: aptDir };
  delete env.FWCOMPAT_DEBIAN_MIRROR;
  return env;
}

beforeAll(async () => {
  aptDir = await scratchDir("fwcompat-apt-");
  await mkdir(join(aptDir, "sources.list.d"));
  await writeFile(
    join(aptDir, "sources.list.d", "ubuntu.sources"),
    "Types: deb\nURIs: http://archive.example.invalid/ubuntu/\nSuites: noble noble-updates\nComponents: main universe\n",
  );
});

afterAll(async () => {
  if (taggedByUs) await execa("docker", ["rmi", STAND_IN]);
});

describe("a machine without a Debian mirror", () => {
  it("with no Debian image to be had either, stops at once naming both remedies (exit 2, one line)", async () => {
    // A registry path that resolves nowhere stands for a machine that reaches no registry.
    const NOWHERE = "fwcompat-no-registry.invalid/debian";
    const started = Date.now();
    const child = runCli(["run", "--matrix", "test/fixtures/matrices/bookworm-engine.yaml"], {
      timeoutMs: 60_000,
      env: { ...noDebianEnv(), FWCOMPAT_DEBIAN_IMAGE: NOWHERE },
    });
    const run = await child;
    expect(run.exitCode, run.stderr).toBe(2);
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    expect(run.stderr.trim()).toMatch(
      new RegExp(
        `^fwcompat: no Debian (trixie|bookworm) base image: no Debian mirror is in ${aptDir} sources to debootstrap from, and ${NOWHERE}:\\1 cannot be pulled \\(.+\\); ` +
          `set FWCOMPAT_DEBIAN_MIRROR to a Debian mirror's base URL and install debootstrap, or make a registry with ${NOWHERE}:\\1 reachable \\(or docker load it\\)$`,
      ),
    );
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await containersCreatedBy(child.pid)).toBe(0);
  });

  it(
    "runs a real cell end to end from debian:trixie and the mirror its apt sources name",
    async () => {
      // Where a registry answers, the real image is pulled; here the debootstrapped base stands in.
      if (
        !(await imageExists(STAND_IN)) &&
        (await execa("docker", ["pull", STAND_IN], { reject: false })).exitCode !== 0
      ) {
        const bases = await execa("docker", ["images", "--format", "{{.Repository}}:{{.Tag}}", "fwcompat/base"]);
        const debootstrapped = bases.stdout
          .split("\n")
          .find((tag) => tag.startsWith("fwcompat/base:trixie-debootstrap-"));
        expect(
          debootstrapped,
          "needs a debootstrapped trixie base on the engine (any earlier run builds one)",
        ).toBeDefined();
        await execa("docker", ["tag", debootstrapped as string, STAND_IN]);
        taggedByUs = true;
      }
      const out = await scratchDir("fwcompat-no-debian-");
      const run = await runCli(["run", "--matrix", "test/fixtures/matrices/no-debian-machine.yaml", "--out", out], {
        timeoutMs: 20 * 60_000,
        env: noDebianEnv(),
      });
      expect(run.exitCode, run.stderr.slice(-3000)).toBe(0);
      expect(run.stderr).toContain(
        "base images: trixie from debian:trixie; Debian mirror from debian:trixie's own apt sources",
      );
      expect(run.stderr).toMatch(
        /base trixie: (built|cached) fwcompat\/base:trixie-registry-[0-9a-f]{16} from debian:trixie/,
      );

      const files = await readdir(join(out, "cells"));
      expect(files).toHaveLength(1);
      const result = cellResultSchema.parse(JSON.parse(await readFile(join(out, "cells", files[0] as string), "utf8")));
      expect(result.status).toBe("works");
      expect(result.baseline?.evidence?.iptablesPackage).toBe("iptables 1.8.11-2 (Debian trixie)");
      expect(result.baseline?.evidence?.dockerdVersion).toMatch(/^Docker version 26\.1\.5/);
      const probes = result.baseline?.probes ?? [];
      expect(probes.length).toBeGreaterThan(0);
      expectEvery(
        probes.filter((p) => p.vantage === "external"),
        (p) => p.outcome === "ok",
      );
      expectEvery(probes, (p) => p.pass);
      const runId = JSON.parse(await readFile(join(out, "run.json"), "utf8")).runId as string;
      expect(await labelledContainers(runId)).toBe(0);
    },
    20 * 60_000,
  );
});
