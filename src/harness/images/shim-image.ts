import { readFile } from "node:fs/promises";
import type Docker from "dockerode";
import { HOST_TOOLS, SHIM_SOURCE } from "../../contract/host-contract.js";
import { packageFile } from "../package-files.js";
import { ImageBuildError, type ImageRecipe } from "./build-image.js";
import { buildOrExplain, type Availability } from "./build-or-explain.js";
import { ensureToolchain } from "./toolchain.js";

/** How the shim is compiled, in its image and by the tests that run it: static (one binary for every host suite), libc only. */
export const SHIM_CFLAGS = ["-O2", "-static", "-Wall", "-Wextra"];
/** Where the shim image holds the compiled shim. */
export const SHIM_BINARY = `/${HOST_TOOLS.iptablesShim}`;

export const readShimSource = () => readFile(packageFile("host-files", SHIM_SOURCE), "utf8");

/** The shim compiled in the toolchain image, alone in an image that host images and VM boxes copy it from. */
export function shimRecipe(toolchainTag: string, source: string): ImageRecipe {
  return {
    repo: "fwcompat/shim",
    tagPrefix: "iptables",
    files: { [SHIM_SOURCE]: source },
    extraKeys: [toolchainTag],
    dockerfile: [
      `FROM ${toolchainTag} AS build`,
      `COPY ${SHIM_SOURCE} /src/`,
      `RUN cc ${SHIM_CFLAGS.join(" ")} -o /src/${HOST_TOOLS.iptablesShim} /src/${SHIM_SOURCE}`,
      `FROM scratch`,
      `COPY --from=build /src/${HOST_TOOLS.iptablesShim} ${SHIM_BINARY}`,
    ].join("\n"),
  };
}

/** The shim's image (built on first use, cached by content hash); a failure is the reason no host can be built. */
export async function buildShim(
  docker: Docker,
  toolchainBase: string,
  log: (line: string) => void,
): Promise<Availability<{ tag: string }>> {
  let toolchain: string;
  try {
    toolchain = await ensureToolchain(docker, toolchainBase, log);
  } catch (error) {
    if (!(error instanceof ImageBuildError)) throw error;
    return {
      ok: false,
      status: "error",
      reason: `the toolchain the shim is compiled in: ${error.message}\n${error.logTail.split("\n").slice(-8).join("\n")}`,
    };
  }
  return buildOrExplain(docker, shimRecipe(toolchain, await readShimSource()), "iptables shim", log);
}
