import type Docker from "dockerode";
import type { Engine, Settings } from "../../config/schema.js";
import { recipeTag, imageExists } from "./build-image.js";
import { checkArchiveCommit } from "./moby-source.js";
import { dockerProxyOrigin } from "./moby-layout.js";
import { mobyBuildRecipe, type MobySourceEngine } from "./moby-recipe.js";
import { buildOrExplain, type Availability } from "./build-or-explain.js";
import { obtainSource } from "./source-dir.js";
import { missingEngine } from "./source-routes.js";

/**
 * The compile's CPU weight (Docker's default is 1024): it takes minutes of every core, and the
 * hosts and runs beside it (tests timing probes, other cells) keep their share of the CPU.
 */
export const ENGINE_COMPILE_CPU_SHARES = 128;

export const isMobySource = (engine: Engine): engine is MobySourceEngine => engine.source.kind === "moby-source";

/**
 * The image holding dockerd and docker-proxy compiled from the engine's pinned moby
 * archive in the layout its files show (module or GOPATH), cached by content hash. A missing or mismatched archive makes the engine
 * unavailable; a failed build or a wrong version string makes it an error, with the reason.
 */
export async function buildMobyEngine(
  docker: Docker,
  engine: MobySourceEngine,
  baseTag: string,
  settings: Settings,
  log: (line: string) => void,
): Promise<Availability<{ tag: string }>> {
  const what = `engine ${engine.name}`;
  const archive = await obtainSource(engine.source, settings);
  if (!archive.ok || !archive.path)
    return {
      ok: false,
      status: "unavailable",
      reason: `${what}: ${archive.ok ? "no file" : archive.reason}`,
      missing: missingEngine(engine, settings),
    };
  const facts = await checkArchiveCommit(archive.path, engine.source.commit);
  if (!facts.ok) return { ok: false, status: "unavailable", reason: `${what}: ${facts.reason}` };
  const proxy = dockerProxyOrigin(facts.tree);
  const recipe = {
    ...mobyBuildRecipe(engine, baseTag, archive.data, facts.prefix, facts.tree.layout, proxy),
    cpuShares: ENGINE_COMPILE_CPU_SHARES,
  };
  if (!(await imageExists(docker, recipeTag(recipe)))) {
    log(
      `${what}: compiling dockerd and docker-proxy at ${engine.source.tag} (${facts.commit.slice(0, 12)}, ${facts.tree.layout} layout, docker-proxy from the ${proxy === "tree" ? "tree" : `${engine.source.suite} docker.io package`}) from ${archive.origin} with ${engine.source.goPackage}: several minutes, cached afterwards`,
    );
  }
  const started = Date.now();
  const heartbeat = setInterval(
    () => log(`${what}: still compiling (${Math.round((Date.now() - started) / 60_000)} min)`),
    60_000,
  );
  try {
    return await buildOrExplain(docker, recipe, what, log, settings.engineBuildTimeoutMs);
  } finally {
    clearInterval(heartbeat);
  }
}
