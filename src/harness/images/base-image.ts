import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type Docker from "dockerode";
import { execa } from "execa";
import { UserError } from "../../errors.js";
import { aptDir, imageDebianMirror } from "../apt-mirror.js";
import { ensureImage, imageExists, IMAGE_LABEL } from "./build-image.js";
import { TIMEOUT_MS } from "../../contract/timeouts.js";
import { runLocal } from "../local-command.js";

/** What every disposable host and peer needs on top of a minimal Debian. */
export const BASE_PACKAGES = ["iptables", "curl", "ca-certificates", "iproute2", "procps", "tini", "kmod"];

export type BaseImageMode = "auto" | "registry" | "debootstrap";

export interface BaseImageOptions {
  suite: string;
  mirror: string;
  log: (line: string) => void;
}

export type BasePlan = { suite: string; tag: string; route: "cached" | "registry" | "debootstrap" };

function baseKey(suite: string, mirror: string): string {
  return createHash("sha256")
    .update(`${suite}\0${mirror}\0${BASE_PACKAGES.join(",")}`)
    .digest("hex")
    .slice(0, 16);
}

/** The Debian image of a suite: `debian:<suite>`, or from another registry path with FWCOMPAT_DEBIAN_IMAGE (e.g. a mirror of Docker Hub's library). */
export const debianImage = (suite: string): string => `${process.env.FWCOMPAT_DEBIAN_IMAGE || "debian"}:${suite}`;

const debootstrapInstalled = async () =>
  (await execa("sh", ["-c", "command -v debootstrap"], { reject: false })).exitCode === 0;

/**
 * Decides, before anything is built, how each suite's base image will be had, and which
 * Debian mirror the builds use; fails at once, naming every remedy, when no route works.
 *
 * Routes, in order (`auto`): a local `debian:<suite>` image; a base already debootstrapped
 * from the machine's mirror; debootstrap from that mirror; `debian:<suite>` pulled from a
 * registry. Only debootstrap needs a Debian mirror in the machine's apt sources: otherwise
 * the mirror is the one the `debian:<suite>` image's own apt sources name.
 */
export async function planBaseImages(
  docker: Docker,
  suites: readonly string[],
  machineMirror: string | undefined,
  mode: BaseImageMode,
): Promise<{ plans: BasePlan[]; mirror: string; summary: string }> {
  const plans: BasePlan[] = [];
  const haveDebootstrap = await debootstrapInstalled();
  for (const suite of suites) {
    plans.push(await planSuite(docker, suite, machineMirror, mode, haveDebootstrap));
  }
  const mirror = machineMirror ?? (await mirrorOfDebianImage(docker, plans));
  const routes = plans.map(
    (p) =>
      `${p.suite} ${p.route === "registry" ? `from ${debianImage(p.suite)}` : p.route === "cached" ? "cached" : "by debootstrap"}`,
  );
  const mirrorFrom =
    machineMirror === undefined
      ? `${debianImage(plans[0]?.suite ?? "")}'s own apt sources`
      : `${aptDir()} sources or FWCOMPAT_DEBIAN_MIRROR`;
  return { plans, mirror, summary: `base images: ${routes.join(", ")}; Debian mirror from ${mirrorFrom}` };
}

async function planSuite(
  docker: Docker,
  suite: string,
  machineMirror: string | undefined,
  mode: BaseImageMode,
  haveDebootstrap: boolean,
): Promise<BasePlan> {
  const image = debianImage(suite);
  const registry: BasePlan = { suite, tag: "", route: "registry" };
  if (mode === "registry" || (mode === "auto" && (await imageExists(docker, image)))) {
    const failed = await pullUnlessPresent(docker, image);
    if (failed)
      throw new UserError(
        `settings.baseImage is registry, but ${image} cannot be pulled (${failed}); make a registry reachable or docker load ${image}, or use baseImage: auto`,
      );
    return registry;
  }
  if (machineMirror !== undefined) {
    const tag = `fwcompat/base:${suite}-debootstrap-${baseKey(suite, machineMirror)}`;
    if (await imageExists(docker, tag)) return { suite, tag, route: "cached" };
    if (haveDebootstrap) return { suite, tag, route: "debootstrap" };
  }
  if (mode === "debootstrap") {
    throw new UserError(
      machineMirror === undefined
        ? `settings.baseImage is debootstrap, but no Debian mirror is in ${aptDir()} sources; set FWCOMPAT_DEBIAN_MIRROR to a Debian mirror's base URL, or use baseImage: auto to take ${image} from a registry`
        : `debootstrap is needed to build base images for ${suite} (settings.baseImage: debootstrap); install it: apt-get install -y debootstrap`,
    );
  }
  const failed = await pullUnlessPresent(docker, image);
  if (!failed) return registry;
  // Neither route works: name both remedies in one line.
  throw new UserError(
    machineMirror === undefined
      ? `no Debian ${suite} base image: no Debian mirror is in ${aptDir()} sources to debootstrap from, and ${image} cannot be pulled (${failed}); set FWCOMPAT_DEBIAN_MIRROR to a Debian mirror's base URL and install debootstrap, or make a registry with ${image} reachable (or docker load it)`
      : `debootstrap is needed to build base images for ${suite} (${image} is not in the local engine and cannot be pulled: ${failed}; a reachable registry would do too); install it: apt-get install -y debootstrap`,
  );
}

/** Pulls the image unless the engine has it; returns why it could not, or undefined. */
export async function pullUnlessPresent(docker: Docker, image: string): Promise<string | undefined> {
  if (await imageExists(docker, image)) return undefined;
  try {
    const stream = await docker.pull(image);
    await new Promise<void>((resolve, reject) =>
      docker.modem.followProgress(stream, (error: Error | null) => (error ? reject(error) : resolve())),
    );
    return undefined;
  } catch (error) {
    return (error as Error).message.split("\n")[0]?.replace(/^\(HTTP code \d+\) [\w ]+ - /, "");
  }
}

/** Without a mirror in the machine's apt sources, the builds use the one the Debian images name. */
async function mirrorOfDebianImage(docker: Docker, plans: readonly BasePlan[]): Promise<string> {
  const image = debianImage(plans[0]?.suite ?? "stable");
  const mirror = await imageDebianMirror(docker, image);
  if (!mirror)
    throw new UserError(
      `no Debian mirror in ${aptDir()} sources nor in ${image}'s /etc/apt; set FWCOMPAT_DEBIAN_MIRROR to a Debian mirror's base URL`,
    );
  return mirror;
}

/** A Debian rootfs of the plan's suite with BASE_PACKAGES, as a local image; returns its tag. */
export async function ensureBaseImage(docker: Docker, plan: BasePlan, options: BaseImageOptions): Promise<string> {
  const { suite } = options;
  if (plan.route === "cached") return plan.tag;
  if (plan.route === "registry") {
    const registryImage = debianImage(suite);
    // Keyed by the image's id: a newer debian:<suite> makes a new base.
    const { Id } = await docker.getImage(registryImage).inspect();
    const { tag, built } = await ensureImage(
      docker,
      {
        repo: "fwcompat/base",
        tagPrefix: `${suite}-registry`,
        dockerfile: [
          `FROM ${registryImage}`,
          `RUN apt-get -o Acquire::Check-Valid-Until=false update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${BASE_PACKAGES.join(" ")} && rm -rf /var/lib/apt/lists/*`,
        ].join("\n"),
        extraKeys: [Id, BASE_PACKAGES.join(",")],
      },
      options.log,
    );
    options.log(`base ${suite}: ${built ? "built" : "cached"} ${tag} from ${registryImage}`);
    return tag;
  }
  await debootstrapImport(plan.tag, options);
  return plan.tag;
}

async function debootstrapImport(tag: string, { suite, mirror, log }: BaseImageOptions): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "fwcompat-rootfs-"));
  const rootfs = join(dir, "rootfs");
  try {
    log(`debootstrap ${suite} (about 35 s)`);
    const run = await runLocal(
      "debootstrap",
      "debootstrap",
      ["--variant=minbase", `--include=${BASE_PACKAGES.join(",")}`, suite, rootfs, mirror],
      { all: true },
    );
    if (run.exitCode !== 0) {
      const tail = (run.all ?? "").split("\n").slice(-3).join(" | ");
      throw new UserError(`debootstrap ${suite} from ${mirror} failed: ${tail || run.shortMessage}`);
    }
    // debootstrap can leave proc mounted; a tar that walks a live /proc never ends.
    await execa("umount", ["-l", join(rootfs, "proc")], { reject: false });
    await execa("umount", ["-l", join(rootfs, "sys")], { reject: false });
    log(`importing ${tag}`);
    await execa(
      "sh",
      [
        "-c",
        `tar -C "$1" --exclude=./proc/* --exclude=./sys/* --exclude=./dev/* -c . | docker import -c "LABEL ${IMAGE_LABEL}=fwcompat/base" - "$2"`,
        "sh",
        rootfs,
        tag,
      ],
      {
        timeout: TIMEOUT_MS.imageImport,
      },
    );
  } finally {
    await execa("umount", ["-l", join(rootfs, "proc")], { reject: false });
    await rm(dir, { recursive: true, force: true });
  }
}
