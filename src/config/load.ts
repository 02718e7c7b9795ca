import { UserError } from "../errors.js";
import { crossReferenceProblems, withExplicitVariants, type KnownNames } from "./cross-references.js";
import { matrixFileSchema, type MatrixFile } from "./schema.js";
import { parseYamlWithSchema, readUserFile } from "./yaml-schema.js";

/** Reads and validates a matrix file; any problem becomes one UserError with file:line:col. */
export async function loadMatrixFile(file: string, known: KnownNames): Promise<MatrixFile> {
  return parseMatrixText(await readUserFile(file, "matrix file", "--matrix"), file, known);
}

export function parseMatrixText(text: string, file: string, known: KnownNames): MatrixFile {
  const { data, located } = parseYamlWithSchema(text, file, matrixFileSchema);
  const problem = crossReferenceProblems(data, known)[0];
  if (problem) throw new UserError(`${located.locate(problem.path)}: ${problem.message}`);
  return withExplicitVariants(data, known);
}
