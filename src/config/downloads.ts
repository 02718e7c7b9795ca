import { UserError } from "../errors.js";
import type { Settings } from "./schema.js";

const OVERRIDE = "FWCOMPAT_ALLOW_DOWNLOADS";

/**
 * The setting in force: FWCOMPAT_ALLOW_DOWNLOADS (true, false or auto), else the matrix's. An
 * operator (or CI, or this project's own tests, which send no traffic off the machine) can turn
 * every download off without editing matrices.
 */
export function downloadsSetting(
  setting: Settings["allowDownloads"],
  env: NodeJS.ProcessEnv = process.env,
): Settings["allowDownloads"] {
  const value = env[OVERRIDE];
  if (value === undefined || value === "") return setting;
  if (value === "auto") return "auto";
  if (value === "true" || value === "false") return value === "true";
  throw new UserError(`${OVERRIDE}=${value}: expected true, false or auto`);
}

/**
 * Whether a route may download: `true` allows every route, `false` none (only local sources
 * and the machine's Debian mirror), and `auto` (the default) only routes pinned by content
 * (a sha256, a git tree id or a commit the result is checked against), so a download can
 * never change what a run tests.
 */
export function downloadsAllowed(setting: Settings["allowDownloads"], pinnedByContent: boolean): boolean {
  const inForce = downloadsSetting(setting);
  return inForce === true || (inForce === "auto" && pinnedByContent);
}

/** How the setting reads in a reason, e.g. when a route was not tried. */
export function downloadsOffNote(setting: Settings["allowDownloads"]): string {
  return downloadsSetting(setting) === false
    ? "downloads are disabled (settings.allowDownloads: false)"
    : "not pinned by content, so not downloaded (settings.allowDownloads: auto; true allows it)";
}

/** What a reason says of a pinned file's upstream URLs when downloads are off. */
export const urlsNotDownloaded = (count: number) =>
  `downloads from ${count} upstream URL(s) disabled (settings.allowDownloads: false)`;
