import { UserError } from "../errors.js";
import { crossReferenceProblems, withExplicitVariants, type KnownNames } from "./cross-references.js";
import { loadDeclarativeScenarios } from "./declarative.js";
import { matrixFileSchema, type LoadedMatrix } from "./schema.js";
import { parseYamlWithSchema, readUserFile } from "./yaml-schema.js";

/** Reads and validates a matrix file and the scenarios it declares; any problem becomes one UserError with file:line:col. */
export async function loadMatrixFile(file: string, known: KnownNames, option = "--matrix"): Promise<LoadedMatrix> {
  return parseMatrixText(await readUserFile(file, "matrix file", option), file, known);
}

export function parseMatrixText(text: string, file: string, known: KnownNames): LoadedMatrix {
  const { data, located } = parseYamlWithSchema(text, file, matrixFileSchema);
  const scenarios = loadDeclarativeScenarios(data, file, located, new Set(known.scenarios.keys()));
  const withDeclared: KnownNames = {
    ...known,
    scenarios: new Map([...known.scenarios, ...scenarios.map((s) => [s.name, { variants: [] }] as const)]),
  };
  const problem = crossReferenceProblems(data, withDeclared)[0];
  if (problem) throw new UserError(`${located.locate(problem.path)}: ${problem.message}`);
  return { ...withExplicitVariants(data, withDeclared), scenarios };
}
