import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let root: string | undefined;

/**
 * The directory of fwcompat's package.json: the checkout, or the installed package. The
 * files shipped beside the code (matrix.yaml, host-files/, vagrant/, goldens/) are found
 * from here, whether the code runs from src/ (tsx) or from dist/, never from the cwd.
 */
export function packageRoot(): string {
  if (root) return root;
  const start = dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = dirname(dir)) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, "utf8")) as { name?: string }).name === "fwcompat")
      return (root = dir);
    if (dirname(dir) === dir) throw new Error(`fwcompat's package.json not found above ${start}`);
  }
}

/** A file or directory shipped with fwcompat, e.g. packageFile("host-files"). */
export const packageFile = (...parts: string[]): string => join(packageRoot(), ...parts);
