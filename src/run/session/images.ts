import type Docker from "dockerode";
import type { Engine, IptablesBuild, Settings } from "../../config/schema.js";
import { UserError } from "../../errors.js";
import { machineDebianMirror } from "../../harness/apt-mirror.js";
import { ensureBaseImage, planBaseImages, type BasePlan } from "../../harness/images/base-image.js";
import { prepareImages, suitesNeeded, type PreparedImages } from "../../harness/images/prepare.js";

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
}

type Log = (line: string) => void;

/** Finds the mirror and plans the base images of the engines (and of the toolchain); fails at once, naming remedies. */
export async function planImages(docker: Docker, engines: readonly Engine[], settings: Settings): Promise<ImagePlan> {
  const { plans, mirror, summary } = await planBaseImages(
    docker,
    suitesNeeded(engines),
    await machineDebianMirror(),
    settings.baseImage,
  );
  return { engines: [...engines], basePlans: plans, mirror, summary };
}

/** Builds (or finds cached) the planned engines' host images with these iptables builds, and the peer image. */
export function preparePlannedImages(
  docker: Docker,
  plan: Pick<ImagePlan, "engines" | "basePlans" | "mirror">,
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
