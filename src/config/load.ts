import { readFile } from "node:fs/promises";
import { LineCounter, parseDocument, isNode, type Document } from "yaml";
import type { z } from "zod";
import { UserError } from "../cli/user-error.js";
import { matrixFileSchema, type MatrixFile } from "./schema.js";
import { crossReferenceProblems, type KnownNames } from "./cross-references.js";

type Path = ReadonlyArray<PropertyKey>;

/** Reads and validates a matrix file; any problem becomes one UserError with file:line:col. */
export async function loadMatrixFile(file: string, known: KnownNames): Promise<MatrixFile> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new UserError(`${file}: cannot read the matrix file (${(error as NodeJS.ErrnoException).code ?? "error"}); pass an existing file with --matrix`);
  }
  return parseMatrixText(text, file, known);
}

export function parseMatrixText(text: string, file: string, known: KnownNames): MatrixFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const syntaxError = doc.errors[0];
  if (syntaxError) {
    const at = lineCounter.linePos(syntaxError.pos[0]);
    const message = syntaxError.message.split("\n")[0] ?? "YAML syntax error";
    throw new UserError(`${file}:${at.line}:${at.col}: YAML syntax error: ${message}; fix the YAML and run again`);
  }
  const parsed = matrixFileSchema.safeParse(doc.toJS());
  if (!parsed.success) {
    const issue = parsed.error.issues[0] as z.core.$ZodIssue;
    // An unknown key is best shown where it is written, not where its object starts.
    const path = issue.code === "unrecognized_keys" ? [...issue.path, issue.keys[0] ?? ""] : issue.path;
    throw new UserError(`${locate(doc, lineCounter, file, path)}: ${describeIssue(issue)}`);
  }
  const problem = crossReferenceProblems(parsed.data, known)[0];
  if (problem) throw new UserError(`${locate(doc, lineCounter, file, problem.path)}: ${problem.message}`);
  return parsed.data;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const where = issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
  if (issue.code === "unrecognized_keys") {
    return `${where}unknown key ${issue.keys.map((k) => `'${k}'`).join(", ")}; remove it or check its spelling`;
  }
  if (issue.code === "invalid_union" && "discriminator" in issue) {
    return `${where}unknown or missing 'kind'; use one of the documented source kinds`;
  }
  return `${where}${issue.message}`;
}

/** Finds the deepest node of `path` that exists and reports its position. */
function locate(doc: Document, lineCounter: LineCounter, file: string, path: Path): string {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = doc.getIn(path.slice(0, depth) as unknown[], true);
    if (isNode(node) && node.range) {
      const at = lineCounter.linePos(node.range[0]);
      return `${file}:${at.line}:${at.col}`;
    }
  }
  return `${file}:1:1`;
}
