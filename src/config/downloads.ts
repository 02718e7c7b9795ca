import type { Settings } from "./schema.js";

/**
 * Whether a route may download: `true` allows every route, `false` none (only local sources
 * and the machine's Debian mirror), and `auto` (the default) only routes pinned by content
 * (a sha256, a git tree id or a commit the result is checked against), so a download can
 * never change what a run tests.
 */
export function downloadsAllowed(setting: Settings["allowDownloads"], pinnedByContent: boolean): boolean {
  return setting === true || (setting === "auto" && pinnedByContent);
}

/** How the setting reads in a reason, e.g. when a route was not tried. */
export function downloadsOffNote(setting: Settings["allowDownloads"]): string {
  return setting === false
    ? "downloads are disabled (settings.allowDownloads: false)"
    : "not pinned by content, so not downloaded (settings.allowDownloads: auto; true allows it)";
}
