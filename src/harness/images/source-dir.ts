import { access } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Settings } from "../../config/schema.js";

/** The local source directory: FWCOMPAT_SOURCE_DIR, else settings.sourceDir; none by default. */
export function sourceDir(settings: Pick<Settings, "sourceDir">): string | undefined {
  const dir = process.env.FWCOMPAT_SOURCE_DIR || settings.sourceDir;
  return dir ? resolve(dir) : undefined;
}

/** The path of `fileName` in the local source directory, if one is set and holds it. */
export async function findLocalSource(fileName: string, settings: Pick<Settings, "sourceDir">): Promise<string | undefined> {
  const dir = sourceDir(settings);
  if (!dir) return undefined;
  const path = join(dir, fileName);
  return access(path).then(
    () => path,
    () => undefined,
  );
}
