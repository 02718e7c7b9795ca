import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { UserError } from "../errors.js";
import { initTemplateFile } from "../run/session/init-templates.js";
import type { InitOptions } from "./command-options.js";

/** Where the reusable action lives in the shipped workflow, replaced by `--action`. */
export const ACTION_PLACEHOLDER = "<owner>/fwcompat@main";

/** Each file `init` writes (by path in the user's directory) and the shipped template it is copied from. */
export const INIT_FILES: ReadonlyArray<{ path: string; template: string; mode?: number }> = [
  { path: "fwcompat/matrix.yaml", template: "matrix.yaml" },
  { path: "fwcompat/expectations.yaml", template: "expectations.yaml" },
  { path: "fwcompat/scenarios/my-firewall.yaml", template: "my-firewall.yaml" },
  { path: "fwcompat/my-firewall.sh", template: "my-firewall.sh", mode: 0o755 },
  { path: ".github/workflows/fwcompat-gate.yml", template: "fwcompat-gate.yml" },
];
const EXPECTATIONS = "fwcompat/expectations.yaml";
const WORKFLOW = ".github/workflows/fwcompat-gate.yml";

/** A path as the user reads it: relative when under the working directory, else absolute. */
const shown = (path: string) => {
  const rel = relative(".", path);
  return rel === "" ? "." : rel.startsWith("..") ? path : rel;
};

/** The workflow names the action it is given, in place of the placeholder and the comment asking for it. */
const withAction = (workflow: string, action: string) =>
  workflow.replace(/^\s*# where the fwcompat action lives:.*\n/m, "").replace(ACTION_PLACEHOLDER, action);

/**
 * Writes a minimal gate into a directory (an empty one or another repository): a matrix that
 * picks from the catalogue, expectations, a scenario stub for the user's firewall script and
 * a workflow using the reusable action. Nothing is written when any of its files already
 * exists (one line naming it, exit 2).
 */
export async function initCommand(args: InitOptions, log: (line: string) => void): Promise<number> {
  const dir = resolve(args.dir ?? ".");
  const taken = INIT_FILES.filter((f) => existsSync(join(dir, f.path)));
  const [first] = taken;
  if (first)
    throw new UserError(
      `${shown(join(dir, first.path))}${taken.length > 1 ? ` and ${taken.length - 1} more of its files already exist` : " already exists"}: init writes nothing over existing files`,
    );
  const contents = await Promise.all(INIT_FILES.map((f) => readFile(initTemplateFile(f.template), "utf8")));
  for (const [i, file] of INIT_FILES.entries()) {
    const target = join(dir, file.path);
    const text = contents[i] ?? "";
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, file.path === WORKFLOW && args.action ? withAction(text, args.action) : text, {
      flag: "wx",
      ...(file.mode ? { mode: file.mode } : {}),
    });
    log(`wrote ${shown(target)}`);
  }
  log(`next: fwcompat gate --expect ${shown(join(dir, EXPECTATIONS))}`);
  if (!args.action)
    log(`then name where the fwcompat action lives in ${shown(join(dir, WORKFLOW))} (${ACTION_PLACEHOLDER})`);
  return 0;
}
