import { existsSync } from "node:fs";
import { loadMatrixFile } from "../../config/load.js";
import type { LoadedMatrix } from "../../config/schema.js";
import { packageFile } from "../../harness/package-files.js";
import { KNOWN_NAMES } from "../registry.js";

/** The matrix shipped with fwcompat (beside its package.json, whether run from src/ or dist/). */
export const packagedMatrixFile = (): string => packageFile("matrix.yaml");

/** The user's matrix.yaml in the working directory, else the default matrix shipped with fwcompat. */
export const defaultMatrixFile = (): string => (existsSync("matrix.yaml") ? "matrix.yaml" : packagedMatrixFile());

/**
 * The one way every caller reads a matrix: schema, declared scenarios, and every name
 * checked against the scenarios and fixes fwcompat knows; a problem is one UserError.
 * `option` is how the caller lets the user name the file, for the message when it is missing.
 */
export const loadMatrix = (file: string, option = "--matrix"): Promise<LoadedMatrix> =>
  loadMatrixFile(file, KNOWN_NAMES, option);
