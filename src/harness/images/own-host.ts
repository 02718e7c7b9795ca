import { readFileSync } from "node:fs";
import { lstat, readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import type Docker from "dockerode";
import type { Engine, IptablesBuild, OwnHostSource } from "../../config/schema.js";
import {
  buildPrefix,
  HOST_PATHS,
  HOST_TOOLS,
  HOST_TOOLS_DIR,
  OWN_HOST_INIT,
  OWN_HOST_TOOLS_DIR,
  USERLAND,
  USERLAND_FACTS_FILE,
} from "../../contract/host-contract.js";
import { UserError } from "../../errors.js";
import { APT_INSTALL, APT_UPDATE } from "./apt-commands.js";
import { ensureImage, ImageBuildError, type ImageRecipe } from "./build-image.js";
import { SHIM_BINARY } from "./shim-image.js";
import { pullUnlessPresent } from "./base-image.js";

export type OwnHostEngine = Engine & { source: OwnHostSource };

export const isOwnHost = (engine: Engine): engine is OwnHostEngine =>
  engine.source.kind === "image" || engine.source.kind === "dockerfile";

/** `FROM debian:<suite>` (with an optional platform and stage name): the lines fwcompat can serve without a registry. */
const DEBIAN_FROM = /^(\s*FROM\s+(?:--platform=\S+\s+)?)debian:(bookworm|trixie|sid)\b(\S*)(.*)$/gim;

/** The Debian suites an own host's Dockerfile starts from (`FROM debian:<suite>`), read when the run is planned. */
export function dockerfileSuites(engine: Engine): string[] {
  if (engine.source.kind !== "dockerfile") return [];
  let text: string;
  try {
    text = readFileSync(engine.source.dockerfile, "utf8");
  } catch (error) {
    throw new UserError(
      `engine ${engine.name}: cannot read ${engine.source.dockerfile} (${(error as NodeJS.ErrnoException).code ?? "error"})`,
    );
  }
  return [...text.matchAll(DEBIAN_FROM)].flatMap((m) => (m[3] ? [] : [m[2] as string]));
}

/**
 * The Dockerfile with each `FROM debian:<suite>` the engine cannot supply itself (no local
 * image, no registry) pointed at fwcompat's own base of that suite: `debootstrap --variant=minbase`
 * from the machine's Debian mirror plus BASE_PACKAGES. The user's file stays the one they
 * build for production; what was substituted is returned to be logged and recorded.
 */
export function withLocalDebianBases(
  dockerfile: string,
  bases: ReadonlyMap<string, string>,
): { text: string; substituted: string[] } {
  const substituted: string[] = [];
  const text = dockerfile.replace(DEBIAN_FROM, (line, from: string, suite: string, tagTail: string, rest: string) => {
    const base = bases.get(suite);
    if (tagTail || !base) return line;
    substituted.push(`debian:${suite} -> ${base}`);
    return `${from}${base}${rest}`;
  });
  return { text, substituted };
}

/** Every file under a build context, with its mode (a user's scripts keep their executable bit). */
async function contextFiles(dir: string): Promise<Array<{ name: string; data: Buffer; mode: number }>> {
  const files: Array<{ name: string; data: Buffer; mode: number }> = [];
  const walk = async (at: string): Promise<void> => {
    for (const entry of (await readdir(at)).sort()) {
      const path = join(at, entry);
      const info = await lstat(path);
      if (info.isDirectory()) await walk(path);
      else if (info.isFile())
        files.push({ name: relative(dir, path), data: await readFile(path), mode: info.mode & 0o777 });
    }
  };
  await walk(dir);
  return files;
}

/** The user's image as their engine has it: pulled when absent; a name it cannot get is a UserError. */
async function ensureUserImage(docker: Docker, engine: OwnHostEngine & { source: { kind: "image" } }): Promise<string> {
  const { image } = engine.source;
  const failed = await pullUnlessPresent(docker, image);
  if (failed === undefined) return image;
  throw new UserError(
    `engine ${engine.name}: the image ${image} is not on the engine and cannot be pulled (${failed}); build or load it first`,
  );
}

/** The recipe of a user's Dockerfile, built as they wrote it (but for served Debian bases), cached by content. */
export async function userDockerfileRecipe(
  engine: OwnHostEngine & { source: { kind: "dockerfile" } },
  bases: ReadonlyMap<string, string>,
): Promise<{ recipe: ImageRecipe; substituted: string[] }> {
  const { dockerfile, context, buildArgs } = engine.source;
  const { text, substituted } = withLocalDebianBases(readFileSync(dockerfile, "utf8"), bases);
  const files: Record<string, Buffer> = {};
  const fileModes: Record<string, number> = {};
  for (const file of await contextFiles(context ?? join(dockerfile, ".."))) {
    if (file.name === "Dockerfile") continue;
    files[file.name] = file.data;
    fileModes[file.name] = file.mode;
  }
  return {
    recipe: { repo: "fwcompat/own-host", tagPrefix: engine.name, dockerfile: text, files, fileModes, buildArgs },
    substituted,
  };
}

/** The static busybox and tini fwcompat brings into an own host (whose userland may lack both). */
export function ownHostToolsRecipe(baseTag: string): ImageRecipe {
  return {
    repo: "fwcompat/own-host-tools",
    tagPrefix: "static",
    extraKeys: [baseTag],
    dockerfile: [
      `FROM ${baseTag} AS tools`,
      `RUN ${APT_UPDATE} && ${APT_INSTALL} busybox-static tini && rm -rf /var/lib/apt/lists/* && ` +
        `mkdir -p ${OWN_HOST_TOOLS_DIR} && cp /bin/busybox ${HOST_PATHS.busybox} && cp /usr/bin/tini-static ${OWN_HOST_INIT}`,
      `FROM scratch`,
      `COPY --from=tools ${OWN_HOST_TOOLS_DIR} ${OWN_HOST_TOOLS_DIR}`,
    ].join("\n"),
  };
}

/** What `dockerd --version` of an engine claiming `version` says: Docker's own or a distribution's suffixed form (20.10.24+dfsg1). */
const versionPattern = (version: string) => `version ${version.replace(/\./g, "\\.")}[^0-9]`;

/**
 * The user's image with fwcompat-userland run over it: one `missing:` line per tool the cells
 * need that it lacks (and one for a dockerd that is not the claimed version), exit 2.
 */
export function prerequisitesRecipe(engine: Engine, userTag: string, userlandScript: string): ImageRecipe {
  return {
    repo: "fwcompat/own-host-checked",
    tagPrefix: engine.name,
    files: { [`bin/${HOST_TOOLS.userland}`]: userlandScript },
    extraKeys: [userTag],
    dockerfile: [
      `FROM ${userTag}`,
      `USER root`,
      `COPY bin/${HOST_TOOLS.userland} ${HOST_TOOLS_DIR}/`,
      `RUN ${HOST_TOOLS_DIR}/${USERLAND.check} && { dockerd --version | grep -Eq '${versionPattern(engine.version)}' || ` +
        `{ echo "${USERLAND.missingPrefix}dockerd ${engine.version} (the matrix claims it; this image's says: $(dockerd --version))"; exit ${USERLAND.missingExit}; }; }`,
    ].join("\n"),
  };
}

/** The missing-tool lines of a failed prerequisites build (nothing when it failed otherwise). */
export const missingLines = (logTail: string): string[] =>
  logTail.split("\n").filter((line) => line.startsWith(USERLAND.missingPrefix));

/**
 * Builds (or finds cached) an own host's image and checks its prerequisites; returns the checked
 * image's tag. A userland lacking tools is a UserError with one line per missing tool.
 */
export async function checkedOwnHost(
  docker: Docker,
  engine: OwnHostEngine,
  bases: ReadonlyMap<string, string>,
  userlandScript: string,
  log: (line: string) => void,
): Promise<string> {
  let userTag: string;
  if (engine.source.kind === "image") userTag = await ensureUserImage(docker, { ...engine, source: engine.source });
  else {
    const { recipe, substituted } = await userDockerfileRecipe({ ...engine, source: engine.source }, bases);
    for (const line of substituted)
      log(`engine ${engine.name}: FROM ${line} (fwcompat's base: no registry image here)`);
    try {
      userTag = (await ensureImage(docker, recipe, (line) => log(`engine ${engine.name}: ${line}`))).tag;
    } catch (error) {
      if (!(error instanceof ImageBuildError)) throw error;
      throw new UserError(
        `engine ${engine.name}: building ${engine.source.dockerfile} failed: ${error.message}\n${error.logTail.split("\n").slice(-8).join("\n")}`,
      );
    }
  }
  try {
    const { tag } = await ensureImage(docker, prerequisitesRecipe(engine, userTag, userlandScript));
    return tag;
  } catch (error) {
    if (!(error instanceof ImageBuildError)) throw error;
    const missing = missingLines(error.logTail);
    throw new UserError(
      missing.length > 0
        ? missing.map((line) => `engine ${engine.name} (${userTag}): ${line}`).join("\n")
        : `engine ${engine.name}: checking ${userTag} failed: ${error.message}`,
    );
  }
}

/**
 * A disposable host from an own image: the checked user image with fwcompat's in-host tools,
 * the shim, static busybox and tini, the catalogue builds the run uses (each in its own prefix,
 * with its own libraries) and the userland's own iptables wrapped as each `system` build.
 */
export function ownHostRecipe(
  engine: Engine,
  checkedTag: string,
  builds: ReadonlyArray<{ build: IptablesBuild; tag: string }>,
  systemBuilds: readonly IptablesBuild[],
  tools: { scripts: Record<string, string>; shimTag: string; staticTag: string },
): ImageRecipe {
  return {
    repo: "fwcompat/host",
    tagPrefix: engine.name,
    files: { ...tools.scripts },
    extraKeys: [checkedTag],
    dockerfile: [
      `FROM ${checkedTag}`,
      `USER root`,
      `COPY --from=${tools.staticTag} ${OWN_HOST_TOOLS_DIR} ${OWN_HOST_TOOLS_DIR}`,
      ...builds.map(({ build, tag }) => `COPY --from=${tag} ${buildPrefix(build)} ${buildPrefix(build)}`),
      `COPY bin/ ${HOST_TOOLS_DIR}/`,
      `COPY --from=${tools.shimTag} ${SHIM_BINARY} ${HOST_TOOLS_DIR}/${HOST_TOOLS.iptablesShim}`,
      ...systemBuilds.map((build) => `RUN ${HOST_TOOLS_DIR}/${USERLAND.wrap(buildPrefix(build), build.version)}`),
      // scenarios and probes call busybox by name (httpd in a namespace, ping from a container's)
      `RUN command -v busybox >/dev/null || { mkdir -p /usr/local/bin && ln -s ${HOST_PATHS.busybox} /usr/local/bin/busybox; }`,
      `RUN mkdir -p /etc/docker ${HOST_PATHS.runDir} && ${HOST_TOOLS_DIR}/${USERLAND.facts} > ${USERLAND_FACTS_FILE}`,
      `ENTRYPOINT ["${OWN_HOST_INIT}", "--", "${HOST_TOOLS_DIR}/${HOST_TOOLS.hostd}"]`,
      `CMD []`,
    ].join("\n"),
  };
}

/** The in-host scripts of host-files/ this module needs by name (kept here so tests can read them the same way). */
export const userlandScriptOf = (scripts: Record<string, string>): string =>
  scripts[`bin/${HOST_TOOLS.userland}`] ?? "";
