import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { execaSync } from "execa";

const ROOT = new URL("../../", import.meta.url).pathname;

/**
 * The project's offline upstream sources: ../shared/sources beside the repository (beside the
 * main checkout when this is a git worktree). Tests hand it to fwcompat as FWCOMPAT_SOURCE_DIR;
 * the product itself never assumes it.
 */
export function sharedSources(): string {
  const roots = [ROOT];
  const common = execaSync("git", ["rev-parse", "--path-format=absolute", "--git-common-dir"], {
    cwd: ROOT,
    reject: false,
  });
  if (common.exitCode === 0) roots.push(dirname(common.stdout.trim()));
  const candidates = roots.map((root) => resolve(root, "../shared/sources"));
  const found = candidates.find((dir) => existsSync(resolve(dir, "iptables-upstream.bundle")));
  if (!found)
    throw new Error(
      `no iptables-upstream.bundle in ${candidates.join(" or ")}: these tests build iptables from the upstream git history kept there`,
    );
  return found;
}
