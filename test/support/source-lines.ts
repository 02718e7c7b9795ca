import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const ROOT = new URL("../../", import.meta.url).pathname;

/** Every .ts file among the given files and under the given folders of the repository, as paths relative to its root. */
export function sourceFiles(...paths: string[]): string[] {
  const walk = (path: string): string[] =>
    statSync(join(ROOT, path)).isDirectory()
      ? readdirSync(join(ROOT, path)).flatMap((entry) => walk(join(path, entry)))
      : path.endsWith(".ts")
        ? [relative(ROOT, join(ROOT, path))]
        : [];
  return paths.flatMap(walk);
}

/** A file's code lines (comment lines blanked, so line numbers stay) with their 1-based numbers. */
export function codeLines(file: string): { file: string; line: number; text: string }[] {
  return readFileSync(join(ROOT, file), "utf8")
    .replace(/^\s*(\/\/|\*|\/\*).*$/gm, "")
    .split("\n")
    .map((text, i) => ({ file, line: i + 1, text }));
}

/** The code lines of these files that match a pattern, as `file:line: text` for a readable failure. */
export function offendingLines(files: readonly string[], pattern: RegExp): string[] {
  return files
    .flatMap(codeLines)
    .filter(({ text }) => pattern.test(text))
    .map(({ file, line, text }) => `${file}:${line}: ${text.trim()}`);
}
