import type { CellResult } from "../../src/results/schema.js";

/** The cell's verdict and attempt for one fix; a fix the cell did not try fails the test by name. */
export function fixOf(result: CellResult, name: string): CellResult["fixes"][number] {
  const found = result.fixes.find((f) => f.verdict.fix === name);
  if (!found) throw new Error(`${result.cell.id} has no fix ${name}`);
  return found;
}

/** The baseline's user action (e.g. `docker run -p`) tried at a moment of the scenario. */
export const userActionOf = (result: CellResult, when: string, what: string) =>
  result.baseline?.userActions.find((a) => a.when === when && a.action.startsWith(what));
