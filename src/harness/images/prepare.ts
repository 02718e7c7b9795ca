import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type Docker from "dockerode";
import pLimit from "p-limit";
import { downloadsAllowed } from "../../config/downloads.js";
import type { Engine, GitSource, IptablesBuild, IptablesSource, Settings } from "../../config/schema.js";
import { HOST_TOOLS, SHIM_SOURCE } from "../../contract/host-contract.js";
export type { Availability } from "./build-or-explain.js";
import { timerInto } from "../timing.js";
import { packageFile } from "../package-files.js";
import { ensureBaseImage, type BasePlan } from "./base-image.js";
import { buildOrExplain, type Availability } from "./build-or-explain.js";
import { buildFromGit } from "./git-build.js";
import { obtainDebs } from "./deb-source.js";
import { debIptablesRecipe, debianIptablesRecipe, hostRecipe, tarballIptablesRecipe } from "./recipes.js";
import { obtainTarball, tarballDir } from "./tarball-source.js";
import { buildMobyEngine, isMobySource } from "./moby-engine.js";
import { buildShim } from "./shim-image.js";
import { dockerfileSuites, isOwnHost, ownHostRecipe, ownHostToolsRecipe } from "./own-host.js";
import { missingBuild, missingEngine } from "./source-routes.js";

export interface PreparedImages {
  builds: Map<string, Availability<{ tag: string }>>;
  hosts: Map<string, Availability<{ tag: string }>>;
  /** tag of a plain base image used for the external peer */
  peerTag: string;
  /** the compiled iptables shim (at SHIM_BINARY), which hosts and VM boxes copy */
  shim: Availability<{ tag: string }>;
  timingsMs: Record<string, number>;
}

/**
 * Suite the tarball builds are compiled in (and the peer's image). Not older than every host
 * suite: bookworm is. A build compiled here runs on an older host only if that host's glibc and
 * libnftnl have the symbols it links (1.8.11 needs glibc 2.34, which bookworm's 2.36 has);
 * otherwise selecting it fails inside the host with the loader's error.
 */
const TOOLCHAIN_SUITE = "trixie";
const HOST_FILES_DIR = packageFile("host-files");

/** The in-host scripts as `bin/<name>`; the shim's C source is compiled instead (shim-image.ts). */
export async function readHostFiles(): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const name of await readdir(HOST_FILES_DIR)) {
    if (name !== SHIM_SOURCE) files[`bin/${name}`] = await readFile(join(HOST_FILES_DIR, name), "utf8");
  }
  return files;
}

/**
 * Debian suites whose base images a run needs: the engines' and the toolchain's, and those
 * own host Dockerfiles start from (`FROM debian:<suite>`, served from these bases without a registry).
 */
export function suitesNeeded(engines: readonly Engine[]): string[] {
  return [
    ...new Set<string>([
      TOOLCHAIN_SUITE,
      ...engines.flatMap((e) => ("suite" in e.source ? [e.source.suite] : dockerfileSuites(e))),
    ]),
  ];
}

/** Builds (or finds cached) every image the cells need; sources that cannot be had become reasons, not crashes. */
export async function prepareImages(
  docker: Docker,
  input: {
    engines: Engine[];
    builds: IptablesBuild[];
    basePlans: BasePlan[];
    settings: Settings;
    mirror: string;
    /** each own host engine's image, checked for its prerequisites when the run was planned */
    ownHosts?: ReadonlyMap<string, string>;
    log: (line: string) => void;
  },
): Promise<PreparedImages> {
  const { settings, mirror, log } = input;
  const timingsMs: Record<string, number> = {};
  const timed = timerInto(timingsMs);
  const bases = new Map<string, string>();
  await Promise.all(
    input.basePlans.map(async (plan) => {
      bases.set(
        plan.suite,
        await timed(`base:${plan.suite}`, () => ensureBaseImage(docker, plan, { suite: plan.suite, mirror, log })),
      );
    }),
  );
  const toolchainBase = bases.get(TOOLCHAIN_SUITE) as string;
  const hostFiles = await readHostFiles();
  const wrappers = hostFiles[`bin/${HOST_TOOLS.makeWrappers}`] as string;
  // The engines compiled from source take minutes: they start first and run beside everything else.
  const engineImages = new Map(
    input.engines.flatMap((engine) =>
      isMobySource(engine)
        ? [
            [
              engine.name,
              timed(`engine:${engine.name}`, () =>
                buildMobyEngine(docker, engine, bases.get(engine.source.suite) as string, settings, log),
              ),
            ] as const,
          ]
        : [],
    ),
  );
  // compiled beside the iptables builds; awaited by each host (and below), so a failure is not left unhandled meanwhile
  const shim = timed("shim", () => buildShim(docker, toolchainBase, log));
  shim.catch(() => undefined);
  const limit = pLimit(2);
  const builds = new Map<string, Availability<{ tag: string }>>();
  await Promise.all(
    input.builds.map((build) =>
      limit(async () => builds.set(build.name, await timed(`iptables:${build.name}`, () => buildIptables(build)))),
    ),
  );

  /** The build's source, else its alternatives in order; a source that exists but fails to build ends the search. */
  async function buildIptables(build: IptablesBuild): Promise<Availability<{ tag: string }>> {
    const misses: string[] = [];
    let everySourceMissing = true;
    for (const source of [build.source, ...build.alternatives]) {
      const state = await buildFrom(build, source);
      if (state.ok || state.status === "error") return state;
      misses.push(state.reason);
      if (!state.missing) everySourceMissing = false;
    }
    return {
      ok: false,
      status: "unavailable",
      reason: misses.join("; then "),
      ...(everySourceMissing ? { missing: missingBuild(build, settings) } : {}),
    };
  }

  async function buildFrom(build: IptablesBuild, source: IptablesSource): Promise<Availability<{ tag: string }>> {
    // the host image's own iptables: wrapped when the host image is built, nothing to build here
    if (source.kind === "system") return { ok: true, tag: "" };
    if (source.kind === "debian")
      return buildOrExplain(
        docker,
        debianIptablesRecipe({ ...build, source }, toolchainBase, mirror, wrappers),
        `iptables ${build.name}`,
        log,
      );
    if (source.kind === "git") return gitIptables(build, source);
    if (source.kind === "deb") {
      const got = await obtainDebs(source, settings);
      if (!got.ok)
        return { ok: false, status: "unavailable", reason: got.reason, missing: missingBuild(build, settings) };
      log(`iptables ${build.name}: ${got.debs.map((deb) => `${deb.file} from ${deb.origin}`).join(", ")}`);
      return buildOrExplain(
        docker,
        debIptablesRecipe({ ...build, source }, toolchainBase, got.debs, wrappers),
        `iptables ${build.name}`,
        log,
      );
    }
    const tarball = await obtainTarball(source, {
      dir: tarballDir(settings.tarballDir),
      mirror,
      allowDownloads: downloadsAllowed(settings.allowDownloads, true),
    });
    if (!tarball.ok)
      return { ok: false, status: "unavailable", reason: tarball.reason, missing: missingBuild(build, settings) };
    log(`iptables ${build.name}: tarball from ${tarball.origin}`);
    return buildOrExplain(
      docker,
      tarballIptablesRecipe({ ...build, source }, toolchainBase, tarball.data, wrappers),
      `iptables ${build.name}`,
      log,
    );
  }

  async function gitIptables(build: IptablesBuild, source: GitSource): Promise<Availability<{ tag: string }>> {
    const result = await buildFromGit(build, source, { docker, settings, baseTag: toolchainBase, wrappers, log });
    if (!result.ok)
      return {
        ok: false,
        status: result.status,
        reason: result.reason,
        ...(result.status === "unavailable" ? { missing: missingBuild(build, settings) } : {}),
      };
    log(
      `iptables ${build.name}: git ${result.info.describe} (${result.info.commit.slice(0, 12)}) ${result.built ? "built" : "cached"} ${result.tag}`,
    );
    return { ok: true, tag: result.tag };
  }

  const available = input.builds.flatMap((build) => {
    const state = builds.get(build.name);
    return state?.ok && build.source.kind !== "system" ? [{ build, tag: state.tag }] : [];
  });
  const systemBuilds = input.builds.filter((build) => build.source.kind === "system");
  const ownHostTools = input.engines.some(isOwnHost)
    ? buildOrExplain(docker, ownHostToolsRecipe(toolchainBase), "own host tools", log)
    : undefined;
  const hosts = new Map<string, Availability<{ tag: string }>>();
  await Promise.all(
    input.engines.map(async (engine) =>
      hosts.set(engine.name, await timed(`host:${engine.name}`, () => buildHost(engine))),
    ),
  );

  async function buildHost(engine: Engine): Promise<Availability<{ tag: string }>> {
    const shimImage = await shim;
    if (!shimImage.ok) return shimImage;
    if (isOwnHost(engine)) {
      const checked = input.ownHosts?.get(engine.name);
      if (!checked) return { ok: false, status: "error", reason: `engine ${engine.name}: its image was not checked` };
      const staticTools = await (ownHostTools as Promise<Availability<{ tag: string }>>);
      if (!staticTools.ok) return staticTools;
      return buildOrExplain(
        docker,
        ownHostRecipe(engine, checked, available, systemBuilds, {
          scripts: hostFiles,
          shimTag: shimImage.tag,
          staticTag: staticTools.tag,
        }),
        `host ${engine.name}`,
        log,
      );
    }
    const base = bases.get("suite" in engine.source ? engine.source.suite : "") as string;
    let engineTarball: Buffer | undefined;
    const compiled = await engineImages.get(engine.name);
    if (compiled && !compiled.ok) return compiled;
    if (engine.source.kind === "static") {
      const file = engine.source.url.split("/").pop() ?? "docker.tgz";
      const got = await obtainTarball(
        { file, sha256: engine.source.sha256, urls: [engine.source.url] },
        {
          dir: tarballDir(settings.tarballDir),
          mirror: undefined,
          allowDownloads: downloadsAllowed(settings.allowDownloads, true),
        },
      );
      if (!got.ok)
        return { ok: false, status: "unavailable", reason: got.reason, missing: missingEngine(engine, settings) };
      engineTarball = got.data;
    }
    return buildOrExplain(
      docker,
      hostRecipe(
        engine,
        base,
        available,
        { scripts: hostFiles, shimTag: shimImage.tag },
        { tarball: engineTarball, image: compiled?.tag },
        systemBuilds,
      ),
      `host ${engine.name}`,
      log,
    );
  }

  return { builds, hosts, peerTag: toolchainBase, shim: await shim, timingsMs };
}
