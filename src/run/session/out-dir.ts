import { constants } from "node:fs";
import { access, readFile, stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { UserError } from "../../errors.js";

const kindOf = async (path: string) => (await stat(path).catch(() => undefined))?.isDirectory() ?? "missing";

/**
 * Checks, without creating anything, that `--out DIR` can be made: DIR is a directory or
 * does not exist yet, and its nearest existing ancestor is a writable directory.
 */
export async function checkOutDir(dir: string): Promise<void> {
  let path = resolve(dir);
  for (;;) {
    const kind = await kindOf(path);
    if (kind === false)
      throw new UserError(`--out ${dir}: ${path} is a file, not a directory; choose another output directory`);
    if (kind === true) break;
    if (dirname(path) === path) break;
    path = dirname(path);
  }
  await access(path, constants.W_OK).catch(() => {
    throw new UserError(`--out ${dir}: ${path} is not writable; choose another output directory`);
  });
}

/** What an earlier run recorded in DIR/run.json; --resume needs a directory a run wrote. */
export async function previousRun(dir: string): Promise<{ seed?: string }> {
  if ((await kindOf(dir)) !== true)
    throw new UserError(`--resume ${dir}: no such directory; pass the output directory of an earlier run`);
  try {
    return JSON.parse(await readFile(join(dir, "run.json"), "utf8")) as { seed?: string };
  } catch {
    throw new UserError(
      `--resume ${dir}: not a fwcompat run directory (no readable run.json); pass the output directory of an earlier run`,
    );
  }
}
