import type Docker from "dockerode";
import { describe, expect, it, vi } from "vitest";
import { loadCatalogueFile } from "../../src/config/catalogue.js";
import { settingsSchema } from "../../src/config/schema.js";
import { ensureImage } from "../../src/harness/images/build-image.js";
import { buildMobyEngine, ENGINE_COMPILE_CPU_SHARES, isMobySource } from "../../src/harness/images/moby-engine.js";
import { hostRecipe } from "../../src/harness/images/recipes.js";
import { packagedCatalogueFile } from "../../src/run/session/catalogue-file.js";

// The archive is not read here (that takes xz, tar and git: test/local, test/integration): the
// engine build starts from an archive found and checked, as those steps report one.
vi.mock("../../src/harness/images/source-dir.js", () => ({
  obtainSource: async () => ({ ok: true, data: Buffer.from("a moby archive"), origin: "a test", path: "/moby.tar.xz" }),
}));
vi.mock("../../src/harness/images/moby-source.js", () => ({
  checkArchiveCommit: async (_path: string, commit: string) => ({
    ok: true,
    commit,
    prefix: "moby",
    tree: { layout: "module", dockerProxy: true },
  }),
}));

/** An engine where no image exists yet; it records the options of every build it is asked for, and each build succeeds. */
function recordingEngine(): { docker: Docker; builds: Array<Record<string, unknown>> } {
  const builds: Array<Record<string, unknown>> = [];
  const docker = {
    getImage: () => ({ inspect: () => Promise.reject(new Error("no such image")) }),
    buildImage: async (_context: unknown, options: Record<string, unknown>) => {
      builds.push(options);
      return {};
    },
    modem: {
      followProgress: (_stream: unknown, finished: (error: Error | null, output: unknown[]) => void) =>
        finished(null, []),
    },
  };
  return { docker: docker as unknown as Docker, builds };
}

const engines = loadCatalogueFile(packagedCatalogueFile()).engines;

describe("the CPU weight of image builds", () => {
  it("an engine compile asks for the low weight, well under Docker's default 1024", async () => {
    const engine = engines.get("docker-29.7.2");
    if (!engine || !isMobySource(engine)) throw new Error("the catalogue's docker-29.7.2 is not compiled from source");
    const { docker, builds } = recordingEngine();
    const built = await buildMobyEngine(docker, engine, "fwcompat/base:sid", settingsSchema.parse({}), () => {});
    expect(built.ok, JSON.stringify(built)).toBe(true);
    expect(builds).toHaveLength(1);
    expect(builds[0]?.t).toMatch(/^fwcompat\/engine:docker-29\.7\.2-/);
    expect(builds[0]?.cpushares).toBe(ENGINE_COMPILE_CPU_SHARES);
    expect(ENGINE_COMPILE_CPU_SHARES).toBeLessThan(1024);
  });

  it("a host image build asks for none: it keeps Docker's default weight", async () => {
    const engine = engines.get("docker-28.5.2");
    if (!engine) throw new Error("the catalogue has no docker-28.5.2");
    const { docker, builds } = recordingEngine();
    await ensureImage(docker, hostRecipe(engine, "fwcompat/base:sid", [], { scripts: {}, shimTag: "fwcompat/shim:x" }));
    expect(builds).toHaveLength(1);
    expect(builds[0]?.t).toMatch(/^fwcompat\/host:docker-28\.5\.2-/);
    expect(builds[0]).not.toHaveProperty("cpushares");
  });
});
