import { readFile } from "node:fs/promises";
import { isAlias, isNode, LineCounter, parseDocument, visit, type Document } from "yaml";
import type { z } from "zod";
import { UserError } from "../errors.js";

type Path = ReadonlyArray<PropertyKey>;

/** A parsed YAML file that can point at any of its nodes by path, as file:line:col. */
export interface LocatedYaml {
  doc: Document;
  locate(path: Path): string;
}

export async function readUserFile(file: string, what: string, option: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    throw new UserError(
      `${file}: cannot read the ${what} (${(error as NodeJS.ErrnoException).code ?? "error"}); pass an existing file with ${option}`,
    );
  }
}

/** Parses YAML and validates it with a zod schema; the first problem becomes one UserError with file:line:col. */
export function parseYamlWithSchema<T extends z.ZodTypeAny>(
  text: string,
  file: string,
  schema: T,
): { data: z.infer<T>; located: LocatedYaml } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const syntaxError = doc.errors[0];
  if (syntaxError) {
    const at = lineCounter.linePos(syntaxError.pos[0]);
    const message = syntaxError.message.split("\n")[0] ?? "YAML syntax error";
    throw new UserError(`${file}:${at.line}:${at.col}: YAML syntax error: ${message}; fix the YAML and run again`);
  }
  const locate = (path: Path): string => {
    for (let depth = path.length; depth >= 0; depth--) {
      const node = doc.getIn(path.slice(0, depth) as unknown[], true);
      if (isNode(node) && node.range) {
        const at = lineCounter.linePos(node.range[0]);
        return `${file}:${at.line}:${at.col}`;
      }
    }
    return `${file}:1:1`;
  };
  const parsed = schema.safeParse(toJS(doc, file, lineCounter));
  if (!parsed.success) {
    const issue = parsed.error.issues[0] as z.core.$ZodIssue;
    // An unknown key is best shown where it is written, not where its object starts.
    const path = issue.code === "unrecognized_keys" ? [...issue.path, issue.keys[0] ?? ""] : issue.path;
    throw new UserError(`${locate(path)}: ${describeIssue(issue)}`);
  }
  return { data: parsed.data, located: { doc, locate } };
}

/** Most aliases a document may expand (yaml's own default): more is an alias bomb, not a matrix. */
const MAX_ALIAS_COUNT = 100;

/** The document as plain data; an alias bomb is bad input, named where its aliases start. */
function toJS(doc: Document, file: string, lineCounter: LineCounter): unknown {
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    if (!(error instanceof ReferenceError) || !/alias/i.test(error.message)) throw error;
    let first = 0;
    visit(doc, {
      Alias(_, node) {
        if (isAlias(node) && node.range) first = node.range[0];
        return visit.BREAK;
      },
    });
    const at = lineCounter.linePos(first);
    throw new UserError(
      `${file}:${at.line}:${at.col}: YAML aliases expand beyond ${MAX_ALIAS_COUNT} nodes (an alias bomb?); write the values out instead`,
    );
  }
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const where = issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
  if (issue.code === "unrecognized_keys") {
    return `${where}unknown key ${issue.keys.map((k) => `'${k}'`).join(", ")}; remove it or check its spelling`;
  }
  if (issue.code === "invalid_union" && "discriminator" in issue) {
    return `${where}unknown or missing 'kind'; use one of the documented source kinds`;
  }
  if (issue.code === "invalid_union") {
    // Of the alternatives (e.g. a string or a list of them), report the one whose shape the value has.
    const branch =
      issue.errors.find((e) => e[0] && !(e[0].code === "invalid_type" && e[0].path.length === 0)) ?? issue.errors[0];
    const inner = branch?.[0];
    if (inner) return describeIssue({ ...inner, path: [...issue.path, ...inner.path] } as z.core.$ZodIssue);
  }
  return `${where}${issue.message}`;
}
