import type { AppliedPatch } from "../git/cherry-pick.js";
import type { CommitInfo } from "../git/repository.js";
import type { ImageRecipe } from "./build-image.js";
import { buildPrefix, HOST_TOOLS, HOST_TOOLS_DIR, keyValueEntries } from "../../contract/host-contract.js";
import { upstreamVersion } from "./recipes.js";

/**
 * The provenance file of a build from git, with one `patch=<commit> <subject>` line per upstream
 * commit cherry-picked on top; the `version=` lines are appended from what the binaries print.
 */
export function gitProvenance(info: CommitInfo, patches: readonly AppliedPatch[] = []): string {
  const line = (key: string, value: string) => `${key}=${value.replace(/\n/g, " ")}\n`;
  const picked = patches.length
    ? ` + cherry-picked ${patches.map((p) => `${p.commit.slice(0, 12)} (${p.subject})`).join(", ")}`
    : "";
  return [
    line(
      "package",
      `upstream git ${info.describe} (commit ${info.commit.slice(0, 12)}, ${info.date.slice(0, 10)}): ${info.subject}${picked}`,
    ),
    line("source", "git"),
    line("commit", info.commit),
    line("describe", info.describe),
    line("subject", info.subject),
    line("date", info.date),
    ...patches.map((p) => line("patch", `${p.commit} ${p.subject}`)),
  ].join("");
}

/**
 * An iptables build from one commit's tree: autogen, configure and install under the build's
 * prefix, with bin-nft/bin-legacy wrappers. The image is keyed by the tree and the commit, so
 * each commit is built once; its last stage is the runnable base, so the -C probe can run it.
 */
export function gitIptablesRecipe(
  build: { name: string },
  images: { toolchainTag: string; baseTag: string },
  tree: Buffer,
  info: CommitInfo,
  wrappers: string,
  patches: readonly AppliedPatch[] = [],
): ImageRecipe {
  const prefix = buildPrefix(build);
  const quiet = (command: string) => `${command} >>/tmp/build.log 2>&1`;
  return {
    repo: "fwcompat/iptables",
    tagPrefix: build.name,
    files: {
      [`bin/${HOST_TOOLS.makeWrappers}`]: wrappers,
      "source.tar": tree,
      provenance: gitProvenance(info, patches),
    },
    extraKeys: [images.toolchainTag, images.baseTag, info.commit, ...patches.map((p) => p.commit)],
    dockerfile: [
      `FROM ${images.toolchainTag} AS build`,
      `COPY bin/${HOST_TOOLS.makeWrappers} ${HOST_TOOLS_DIR}/`,
      `COPY source.tar /tmp/source.tar`,
      `RUN mkdir /src && tar -C /src -xf /tmp/source.tar && cd /src && ` +
        `{ ${quiet("./autogen.sh")} && ${quiet(`./configure --prefix=${prefix}`)} && ${quiet('make -j"$(nproc)"')} && ${quiet("make install")}; } ` +
        `|| { tail -n 30 /tmp/build.log; exit 1; }`,
      `COPY provenance ${prefix}/provenance`,
      `RUN ${HOST_TOOLS.makeWrappers} ${prefix} ${prefix}/sbin ${prefix}/lib ${prefix}/lib/xtables | tee /tmp/versions && ` +
        `sed -n 's/^\\(iptables v.*\\)/version=\\1/p' /tmp/versions >> ${prefix}/provenance`,
      `FROM ${images.baseTag}`,
      `COPY --from=build ${prefix} ${prefix}`,
    ].join("\n"),
  };
}

/** `key=value` lines of a provenance file; keys may repeat (one `version=` per backend). */
export const parseProvenance = (text: string): Map<string, string[]> => keyValueEntries(text);

/** The release number a tag names, e.g. 1.8.10 for v1.8.10. */
export const tagVersion = (tag: string) => /\d+\.\d+\.\d+/.exec(tag)?.[0];

/**
 * Why a build from git would carry a dishonest name, known before building: at a tag it must
 * claim that tag's release; between tags it must be named by its commit.
 */
export function gitNameProblem(
  build: { name: string; version: string },
  info: CommitInfo,
  cherryPicks: readonly string[] = [],
): string | undefined {
  // a release with patches on top is not the release: its name must say so (1.8.11+fix, not 1.8.11)
  if (cherryPicks.length > 0 && build.name === upstreamVersion(build.version))
    return `build ${build.name} has ${cherryPicks.length} cherry-pick(s) on top of ${info.describe}: name it apart from the release (e.g. "${build.name}+fix")`;
  if (info.exactTag) {
    const tagged = tagVersion(info.exactTag);
    return tagged === upstreamVersion(build.version)
      ? undefined
      : `build ${build.name} claims ${build.version}, but its commit is tag ${info.exactTag}`;
  }
  if (build.name.includes(info.commit.slice(0, 7))) return undefined;
  return `commit ${info.commit.slice(0, 12)} is ${info.describe}, between tags: name the build by its commit (e.g. "git-${info.commit.slice(0, 12)}")`;
}

/** Known after building: the binaries must print the version the build claims. */
export function gitVersionProblem(build: { version: string }, versions: readonly string[]): string | undefined {
  if (versions.some((v) => v.includes(`iptables v${upstreamVersion(build.version)} `))) return undefined;
  return `build claims ${build.version} but says: ${versions.join("; ") || "(no version)"}`;
}
