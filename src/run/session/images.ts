import type Docker from "dockerode";
import type { Engine, IptablesBuild, Settings } from "../../config/schema.js";
import { UserError } from "../../errors.js";
import { machineDebianMirror } from "../../harness/apt-mirror.js";
import { ensureBaseImage, planBaseImages, type BasePlan } from "../../harness/images/base-image.js";
import { prepareImages, readHostFiles, suitesNeeded, type PreparedImages } from "../../harness/images/prepare.js";
import { checkedOwnHost, isOwnHost, userlandScriptOf } from "../../harness/images/own-host.js";

export { readHostFiles } from "../../harness/images/prepare.js";

/**
 * How the images of a set of engines will be had, decided before anything is built: the
 * route to each Debian suite's base image and the Debian mirror every build uses.
 */
export interface ImagePlan {
  engines: Engine[];
  basePlans: BasePlan[];
  mirror: string;
  /** one line for the log: each suite's route and where the mirror came from */
  summary: string;
  /** each own host engine's image, built and checked for its prerequisites (engine name to tag) */
  ownHosts?: ReadonlyMap<string, string>;
}

type Log = (line: string) => void;

/**
 * Finds the mirror and plans the base images of the engines (and of the toolchain); fails at
 * once, naming remedies. Own host images are built and checked here, before any cell: a
 * userland that lacks a tool the cells need fails the run with one line per missing tool.
 */
export async function planImages(
  docker: Docker,
  engines: readonly Engine[],
  settings: Settings,
  log: Log = () => {},
): Promise<ImagePlan> {
  const { plans, mirror, summary } = await planBaseImages(
    docker,
    suitesNeeded(engines),
    await machineDebianMirror(),
    settings.baseImage,
  );
  const plan: ImagePlan = { engines: [...engines], basePlans: plans, mirror, summary };
  const own = engines.filter(isOwnHost);
  if (own.length === 0) return plan;
  // `FROM debian:<suite>` is served from fwcompat's base where the engine has no such image
  const served = new Map<string, string>();
  for (const basePlan of plans.filter((p) => p.route !== "registry"))
    served.set(basePlan.suite, await ensureBaseImage(docker, basePlan, { suite: basePlan.suite, mirror, log }));
  const script = userlandScriptOf(await readHostFiles());
  const ownHosts = new Map<string, string>();
  const problems: string[] = [];
  for (const engine of own) {
    try {
      ownHosts.set(engine.name, await checkedOwnHost(docker, engine, served, script, log));
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      problems.push(error.message);
    }
  }
  if (problems.length > 0) throw new UserError(problems.join("\n"));
  return { ...plan, ownHosts };
}

/** Builds (or finds cached) the planned engines' host images with these iptables builds, and the peer image. */
export function preparePlannedImages(
  docker: Docker,
  plan: Pick<ImagePlan, "engines" | "basePlans" | "mirror" | "ownHosts">,
  builds: IptablesBuild[],
  settings: Settings,
  log: Log,
): Promise<PreparedImages> {
  return prepareImages(docker, {
    engines: plan.engines,
    builds,
    basePlans: plan.basePlans,
    settings,
    mirror: plan.mirror,
    ...(plan.ownHosts ? { ownHosts: plan.ownHosts } : {}),
    log,
  });
}

/** Only the base images of the plan, by suite (what a bisect's git builds compile on). */
export async function ensureBaseImages(docker: Docker, plan: ImagePlan, log: Log): Promise<Map<string, string>> {
  const bases = new Map<string, string>();
  for (const basePlan of plan.basePlans)
    bases.set(
      basePlan.suite,
      await ensureBaseImage(docker, basePlan, { suite: basePlan.suite, mirror: plan.mirror, log }),
    );
  return bases;
}

/**
 * The host image of one engine, with every iptables build given (as in a run, so the cached
 * image is shared), and the peer image; a build or host that cannot be had is a UserError.
 */
export async function hostImageWith(
  docker: Docker,
  engine: Engine,
  build: string,
  builds: IptablesBuild[],
  settings: Settings,
  log: Log,
): Promise<{ hostImage: string; peerImage: string }> {
  const plan = await planImages(docker, [engine], settings);
  const images = await preparePlannedImages(docker, plan, builds, settings, log);
  const built = images.builds.get(build);
  if (!built?.ok) throw new UserError(`iptables ${build}: ${built?.reason ?? "not built"}`);
  const host = images.hosts.get(engine.name);
  if (!host?.ok) throw new UserError(`engine ${engine.name}: ${host?.reason ?? "no host image"}`);
  return { hostImage: host.tag, peerImage: images.peerTag };
}
