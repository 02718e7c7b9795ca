import type Docker from "dockerode";
import type { MissingSource } from "../../results/missing-source.js";
import { ensureImage, ImageBuildError } from "./build-image.js";

export type Availability<T> =
  | ({ ok: true } & T)
  | {
      ok: false;
      status: "unavailable" | "error";
      reason: string;
      /** set when unavailable because no route could supply the source (rather than a failed build) */
      missing?: MissingSource;
    };

/** Builds a recipe (or finds it cached); a failed build becomes a reason: `unavailable` when the mirror lacks a package, else `error`. */
export async function buildOrExplain(
  docker: Docker,
  recipe: Parameters<typeof ensureImage>[1],
  what: string,
  log: (line: string) => void,
  timeoutMs?: number,
): Promise<Availability<{ tag: string }>> {
  try {
    const { tag, built } = await ensureImage(docker, recipe, (line) => log(`${what}: ${line}`), timeoutMs);
    log(`${what}: ${built ? "built" : "cached"} ${tag}`);
    return { ok: true, tag };
  } catch (error) {
    if (!(error instanceof ImageBuildError)) throw error;
    const missing =
      /Unable to locate|Version '.*' for '.*' was not found|Can't select|has no installation candidate/.exec(
        error.logTail,
      );
    if (missing)
      return { ok: false, status: "unavailable", reason: `${what}: the mirror does not carry it (${missing[0]})` };
    // A binary that does not say the claimed version: that line is the reason (the build's command is not).
    const claim = /^(?:build|engine) claims .* but says: .*$/m.exec(error.logTail)?.[0];
    if (claim) return { ok: false, status: "error", reason: `${what}: ${claim}` };
    return {
      ok: false,
      status: "error",
      reason: `${error.message}\n${error.logTail.split("\n").slice(-8).join("\n")}`,
    };
  }
}
