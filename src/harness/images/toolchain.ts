import type Docker from "dockerode";
import { APT_INSTALL, APT_UPDATE } from "./apt-commands.js";
import { ensureImage, type ImageRecipe } from "./build-image.js";

/** Everything ./autogen.sh, configure and make need for iptables (and cc for the shim), on the trixie base (cached by content hash). */
export function iptablesToolchainRecipe(baseTag: string): ImageRecipe {
  return {
    repo: "fwcompat/toolchain",
    tagPrefix: "iptables",
    extraKeys: [baseTag],
    dockerfile: [
      `FROM ${baseTag}`,
      `RUN ${APT_UPDATE} && ${APT_INSTALL} build-essential pkg-config libmnl-dev libnftnl-dev autoconf automake libtool && rm -rf /var/lib/apt/lists/*`,
    ].join("\n"),
  };
}

// One toolchain image per process, however many builds ask for it at once.
const toolchains = new Map<string, Promise<string>>();

/** The C toolchain image on a base (built once, cached by content hash): iptables from git and the shim are compiled in it. */
export function ensureToolchain(docker: Docker, baseTag: string, log: (line: string) => void): Promise<string> {
  let tag = toolchains.get(baseTag);
  if (!tag) {
    tag = ensureImage(docker, iptablesToolchainRecipe(baseTag), (line) => log(`iptables toolchain: ${line}`)).then(
      (r) => r.tag,
    );
    toolchains.set(baseTag, tag);
    tag.catch(() => toolchains.delete(baseTag));
  }
  return tag;
}
