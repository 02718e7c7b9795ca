import { readFileSync, readdirSync } from "node:fs";
import { fwcompatProgram } from "../../src/cli/program.js";

/** The checks of test/unit/docs.test.ts: each takes texts and returns what is wrong, one line per problem. */

export const ROOT = new URL("../../", import.meta.url);
export const read = (path: string) => readFileSync(new URL(path, ROOT), "utf8");

/** README.md and every page under docs/, by path. */
export function userDocs(): Map<string, string> {
  const pages = readdirSync(new URL("docs/", ROOT))
    .filter((f) => f.endsWith(".md"))
    .sort();
  return new Map([["README.md", read("README.md")], ...pages.map((f) => [`docs/${f}`, read(`docs/${f}`)] as const)]);
}

/** Markdown without its fenced code blocks (examples and transcripts quote, they do not state). */
export const prose = (markdown: string) => markdown.replace(/^```[^\n]*\n[\s\S]*?^```$/gm, "");

// ---------- figures ----------

const FIGURE =
  /<!-- fig:([a-z0-9-]+) -->\s*\**\s*((?:about |~)?\d[\d.,]*(?:\s?[–-]\s?\d[\d.,]*)?(?:\s?(?:ms|s|minutes|min|%|×|MB|GiB|cells)\b|×)?)/g;

export interface FigureQuote {
  id: string;
  value: string;
  where: string;
}

export function figureQuotes(files: ReadonlyMap<string, string>): FigureQuote[] {
  return [...files].flatMap(([where, text]) =>
    [...text.matchAll(FIGURE)].map((m) => ({
      id: m[1] as string,
      value: (m[2] as string).replace(/\s+/g, " ").trim(),
      where,
    })),
  );
}

/** A figure id quoted with two values, or quoted without being defined in the performance log. */
export function figureProblems(files: ReadonlyMap<string, string>, log = "docs/performance.md"): string[] {
  const quotes = figureQuotes(files);
  const problems: string[] = [];
  for (const id of new Set(quotes.map((q) => q.id))) {
    const of = quotes.filter((q) => q.id === id);
    const values = new Set(of.map((q) => q.value));
    if (values.size > 1)
      problems.push(`fig:${id} has ${values.size} values: ${of.map((q) => `${q.value} (${q.where})`).join(", ")}`);
    if (!of.some((q) => q.where === log))
      problems.push(`fig:${id} is quoted in ${of[0]?.where} but not defined in ${log}`);
  }
  const marked = [...(files.get(log) ?? "").matchAll(/<!-- fig:([a-z0-9-]+) -->/g)].length;
  const parsed = quotes.filter((q) => q.where === log).length;
  if (marked !== parsed) problems.push(`${log}: ${marked - parsed} fig marker(s) not followed by a figure`);
  return problems;
}

const DURATION = /(?<![\w.-])\d+(?:\.\d+)?\s?(?:ms|s|min|minutes|seconds|hours)\b/g;

/** Durations stated outside the log without a figure id: in the README's prose, or anywhere in a YAML file's comments. */
export function unmarkedDurations(text: string, kind: "markdown" | "yaml"): string[] {
  const lines =
    kind === "yaml"
      ? text.split("\n").flatMap((l) => (l.includes("#") ? [l.slice(l.indexOf("#"))] : []))
      : prose(text).split("\n");
  return lines.flatMap((line) => {
    const stripped = line.replace(FIGURE, "");
    return [...stripped.matchAll(DURATION)].map((m) => `${m[0]} in: ${line.trim()}`);
  });
}

// ---------- CLI options ----------

/**
 * The long options the CLI defines, read from its sources: the keys of each parseArgs `options` block in
 * src/cli/args.ts and src/cli/bisect-command.ts. When the CLI moves to commander (src/cli/program.ts), only this
 * function changes.
 */
/** Every long option of every fwcompat command, read from the commander program itself (parsing only, no action runs). */
export function cliOptions(): Set<string> {
  const never = () => Promise.reject(new Error("not run"));
  const { program } = fwcompatProgram({
    run: never,
    report: never,
    summary: never,
    init: never,
    gate: never,
    compare: never,
    plan: never,
    bisect: never,
    clean: never,
    schema: never,
  });
  const commands = [program, ...program.commands];
  const declared = commands.flatMap((command) =>
    command.options.map((option) => option.long).filter((long): long is string => long !== undefined),
  );
  // commander adds --help to every command itself, outside `options`
  return new Set(["--help", ...declared]);
}

export const flagsIn = (text: string) => new Set([...text.matchAll(/(?<![\w-])--[a-z][a-z-]*[a-z]/g)].map((m) => m[0]));

export function bothWays(documented: ReadonlySet<string>, defined: ReadonlySet<string>, what: string): string[] {
  return [
    ...[...documented].filter((x) => !defined.has(x)).map((x) => `${x} is documented but not a ${what}`),
    ...[...defined].filter((x) => !documented.has(x)).map((x) => `${x} is a ${what} but not documented`),
  ];
}

// ---------- filter keys and matrix settings ----------

/** The backticked names on the line after a marker comment, e.g. `<!-- filter-keys -->`. */
export function namesAfterMarker(text: string, marker: string): Set<string> {
  const at = text.indexOf(`<!-- ${marker} -->`);
  if (at < 0) return new Set();
  const line = text.slice(at).split("\n")[0] as string;
  return new Set([...line.matchAll(/`([\w-]+)`/g)].map((m) => m[1] as string));
}

/** The lines up to the first that is not a table row. */
function leadingTable(lines: readonly string[]): string[] {
  const end = lines.findIndex((l) => !l.startsWith("|"));
  return lines.slice(0, end < 0 ? lines.length : end);
}

/** The first column of the table that follows a marker comment. */
export function tableAfterMarker(text: string, marker: string): Set<string> {
  const at = text.indexOf(`<!-- ${marker} -->`);
  if (at < 0) return new Set();
  return new Set(
    leadingTable(text.slice(at).split("\n").slice(1)).flatMap((r) => /^\| `([\w-]+)` \|/.exec(r)?.[1] ?? []),
  );
}

/** The keys of `--filter key=value` examples (the placeholder `key` itself left out). */
export const filterKeysUsed = (text: string) =>
  new Set([...text.matchAll(/--filter ([a-z]+)=/g)].map((m) => m[1] as string).filter((k) => k !== "key"));
export const settingsMentioned = (text: string) =>
  new Set([...text.matchAll(/settings\.([A-Za-z]+)/g)].map((m) => m[1] as string));

// ---------- the scenario and fix catalogue ----------

export interface CatalogueScenario {
  variants: string[];
  defaultVariant: string | undefined;
}

const cells = (row: string) =>
  row
    .split(/(?<!\\)\|/)
    .slice(1, -1)
    .map((c) => c.trim());
const backticked = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1] as string);

/** The rows of the table whose header starts with `first`: first cell's backticked name → the other cells. */
export function tableRows(text: string, first: string): Map<string, string[]> {
  const lines = text.split("\n");
  const header = lines.findIndex((l) => l.startsWith(`| ${first} |`));
  if (header < 0) return new Map();
  const rows = leadingTable(lines.slice(header + 2));
  return new Map(rows.map((r) => cells(r)).map(([name = "", ...rest]) => [backticked(name)[0] ?? name, rest]));
}

export function catalogueScenarios(text: string): Map<string, CatalogueScenario> {
  return new Map(
    [...tableRows(text, "scenario")].map(([name, [variants = "", defaultVariant = ""]]) => [
      name,
      { variants: backticked(variants), defaultVariant: backticked(defaultVariant)[0] },
    ]),
  );
}

// ---------- links ----------

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
export const anchorOf = (heading: string) =>
  heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, "")
    .replace(/ /g, "-");

export function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  return new Set(
    [...prose(markdown).matchAll(/^#{1,6} (.+)$/gm)].map((m) => {
      const base = anchorOf(m[1] as string);
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      return n === 0 ? base : `${base}-${n}`;
    }),
  );
}

/** Relative links (and their #anchors) that lead nowhere; `exists` answers for a path from the repository root. */
export function brokenLinks(
  files: ReadonlyMap<string, string>,
  exists: (path: string) => boolean,
  anchorsIn: (path: string) => Set<string> | undefined,
): string[] {
  return [...files].flatMap(([where, text]) =>
    [...prose(text).matchAll(/\]\(([^)\s]+)\)/g)].flatMap((m) => {
      const target = m[1] as string;
      if (/^[a-z]+:/.test(target)) return [];
      const [path = "", anchor] = target.split("#");
      const resolved = path === "" ? where : new URL(path, new URL(where, "file:///")).pathname.slice(1);
      if (!exists(resolved)) return [`${where}: ${target} does not exist`];
      if (anchor && resolved.endsWith(".md") && !anchorsIn(resolved)?.has(anchor))
        return [`${where}: ${target}: no heading #${anchor}`];
      return [];
    }),
  );
}
