import { existsSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { Problem } from "./cross-references.js";
import type { Engine, MatrixFile } from "./schema.js";

/**
 * An own host's Dockerfile and build context, relative to the file that declares them, made
 * absolute; one that is not there is a problem named where it is written.
 */
export function resolveOwnHostPaths(matrix: MatrixFile, file: string): { matrix: MatrixFile; problems: Problem[] } {
  const problems: Problem[] = [];
  const engines = matrix.engines.map((engine, i): Engine => {
    const source = engine.source;
    if (source.kind !== "dockerfile") return engine;
    const dockerfile = resolve(dirname(file), source.dockerfile);
    const context = resolve(dirname(file), source.context ?? dirname(source.dockerfile));
    if (!existsSync(dockerfile) || !statSync(dockerfile).isFile())
      problems.push({
        path: ["engines", i, "source", "dockerfile"],
        message: `no Dockerfile at ${dockerfile}; dockerfile is relative to ${file}`,
      });
    else if (!existsSync(context) || !statSync(context).isDirectory())
      problems.push({
        path: ["engines", i, "source", "context"],
        message: `no build context folder at ${context}; context is relative to ${file}`,
      });
    return { ...engine, source: { ...source, dockerfile, context } };
  });
  return { matrix: { ...matrix, engines }, problems };
}
