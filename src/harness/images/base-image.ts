import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type Docker from "dockerode";
import { execa } from "execa";
import { UserError } from "../../errors.js";
import { ensureImage, imageExists, IMAGE_LABEL } from "./build-image.js";

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
  return createHash("sha256").update(`${suite}\0${mirror}\0${BASE_PACKAGES.join(",")}`).digest("hex").slice(0, 16);
}

/**
 * Decides, before anything is built, how each suite's base image will be had, and fails
 * at once with the remedy when that needs a tool this machine lacks.
 */
export async function planBaseImages(docker: Docker, suites: readonly string[], mirror: string, mode: BaseImageMode): Promise<BasePlan[]> {
  const plans: BasePlan[] = [];
  for (const suite of suites) {
    const registryImage = `debian:${suite}`;
    const useRegistry = mode === "registry" || (mode === "auto" && (await imageExists(docker, registryImage)));
    const tag = useRegistry ? "" : `fwcompat/base:${suite}-debootstrap-${baseKey(suite, mirror)}`;
    const route = useRegistry ? "registry" : (await imageExists(docker, tag)) ? "cached" : "debootstrap";
    plans.push({ suite, tag, route });
  }
  if (plans.some((p) => p.route === "debootstrap")) {
    const which = await execa("sh", ["-c", "command -v debootstrap"], { reject: false });
    if (which.exitCode !== 0) {
      const suitesNeeding = plans.filter((p) => p.route === "debootstrap").map((p) => p.suite);
      throw new UserError(
        `debootstrap is needed to build base images for ${suitesNeeding.join(", ")} (no debian:<suite> image in the local engine); install it: apt-get install -y debootstrap`,
      );
    }
  }
  return plans;
}

/** A Debian rootfs of the plan's suite with BASE_PACKAGES, as a local image; returns its tag. */
export async function ensureBaseImage(docker: Docker, plan: BasePlan, options: BaseImageOptions): Promise<string> {
  const { suite, mirror } = options;
  if (plan.route === "cached") return plan.tag;
  if (plan.route === "registry") {
    const registryImage = `debian:${suite}`;
    if (!(await imageExists(docker, registryImage))) await pull(docker, registryImage);
    const { tag } = await ensureImage(docker, {
      repo: "fwcompat/base",
      tagPrefix: `${suite}-registry`,
      dockerfile: [
        `FROM ${registryImage}`,
        `RUN apt-get -o Acquire::Check-Valid-Until=false update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${BASE_PACKAGES.join(" ")} && rm -rf /var/lib/apt/lists/*`,
      ].join("\n"),
      extraKeys: [baseKey(suite, mirror)],
    }, options.log);
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
    const run = await execa(
      "debootstrap",
      ["--variant=minbase", `--include=${BASE_PACKAGES.join(",")}`, suite, rootfs, mirror],
      { reject: false, all: true, timeout: 600_000 },
    );
    if (run.exitCode !== 0) {
      const tail = (run.all ?? "").split("\n").slice(-3).join(" | ");
      throw new UserError(`debootstrap ${suite} from ${mirror} failed: ${tail || run.shortMessage}`);
    }
    // debootstrap can leave proc mounted; a tar that walks a live /proc never ends.
    await execa("umount", ["-l", join(rootfs, "proc")], { reject: false });
    await execa("umount", ["-l", join(rootfs, "sys")], { reject: false });
    log(`importing ${tag}`);
    await execa("sh", ["-c", `tar -C "$1" --exclude=./proc/* --exclude=./sys/* --exclude=./dev/* -c . | docker import -c "LABEL ${IMAGE_LABEL}=fwcompat/base" - "$2"`, "sh", rootfs, tag], {
      timeout: 300_000,
    });
  } finally {
    await execa("umount", ["-l", join(rootfs, "proc")], { reject: false });
    await rm(dir, { recursive: true, force: true });
  }
}

async function pull(docker: Docker, image: string): Promise<void> {
  try {
    const stream = await docker.pull(image);
    await new Promise<void>((resolve, reject) => docker.modem.followProgress(stream, (error: Error | null) => (error ? reject(error) : resolve())));
  } catch (error) {
    throw new UserError(`cannot pull ${image} (${(error as Error).message.split("\n")[0]}); use settings.baseImage: debootstrap`);
  }
}
