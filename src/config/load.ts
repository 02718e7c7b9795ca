import { UserError } from "../errors.js";
import { pickFromCatalogue } from "./catalogue.js";
import { crossReferenceProblems, withExplicitVariants, type KnownNames } from "./cross-references.js";
import { loadDeclarativeScenarios } from "./declarative.js";
import { resolveOwnHostPaths } from "./own-host-paths.js";
import { matrixFileSchema, type LoadedMatrix } from "./schema.js";
import { parseYamlWithSchema, readUserFile } from "./yaml-schema.js";

/** Reads and validates a matrix file and the scenarios it declares; any problem becomes one UserError with file:line:col. */
export async function loadMatrixFile(file: string, known: KnownNames, option = "--matrix"): Promise<LoadedMatrix> {
  return parseMatrixText(await readUserFile(file, "matrix file", option), file, known);
}

export function parseMatrixText(text: string, file: string, known: KnownNames): LoadedMatrix {
  const { data: written, located } = parseYamlWithSchema(text, file, matrixFileSchema);
  const { matrix: picked, problems: unknownNames } = pickFromCatalogue(written, known.catalogue);
  const unknownName = unknownNames[0];
  if (unknownName) throw new UserError(`${located.locate(unknownName.path)}: ${unknownName.message}`);
  const { matrix: data, problems: missingPaths } = resolveOwnHostPaths(picked, file);
  const missingPath = missingPaths[0];
  if (missingPath) throw new UserError(`${located.locate(missingPath.path)}: ${missingPath.message}`);
  const scenarios = loadDeclarativeScenarios(data, file, located, new Set(known.scenarios.keys()));
  const withDeclared: KnownNames = {
    ...known,
    scenarios: new Map([...known.scenarios, ...scenarios.map((s) => [s.name, { variants: [] }] as const)]),
  };
  const problem = crossReferenceProblems(data, withDeclared)[0];
  if (problem) throw new UserError(`${located.locate(problem.path)}: ${problem.message}`);
  return { ...withExplicitVariants(data, withDeclared), scenarios };
}
