import type { Fix, Scenario } from "../api/scenario.js";
import { scenarioLabel, type Cell } from "../config/expand.js";
import { kernelLine, type KernelCapability } from "../contract/kernel-capability.js";
import type { AttemptResult, CellResult } from "../results/schema.js";

/**
 * A dind host runs on this machine's kernel. A cell meant for a kernel with the legacy xtables
 * tables (legacy backend, a scenario that needs them) cannot run faithfully where that kernel has
 * none: it is `unsupported` with the reason, never a result that would read as a reproduction.
 * VM cells run on their own guest kernel, whose state the cell itself sets up: they always run.
 */

/** Why the cell's baseline needs the legacy tables, or undefined when it does not. */
export function legacyNeedOf(cell: Cell, scenario: Scenario | undefined): string | undefined {
  if (cell.backend === "legacy") return "its iptables backend is legacy";
  if (scenario?.needsLegacyXtables?.(cell.variant))
    return `scenario ${scenarioLabel(cell)} runs in the dind lane as the kernel-with-legacy control`;
  return undefined;
}

const lacking = (kernel: KernelCapability) =>
  `this machine's kernel (${kernelLine(kernel)}, read in a host container) has no legacy xtables tables`;

/** The cell's status and reason when it cannot run on this kernel, else undefined. */
export function kernelGate(
  cell: Cell,
  kernel: KernelCapability | undefined,
  scenario: Scenario | undefined,
): { status: CellResult["status"]; reason: string } | undefined {
  if (cell.provider !== "dind" || kernel?.legacyXtables !== "absent") return undefined;
  const need = legacyNeedOf(cell, scenario);
  return need ? { status: "unsupported", reason: `${lacking(kernel)}, and the cell needs them: ${need}` } : undefined;
}

/** Why a fix of a dind cell is not applicable on this kernel (it needs the legacy tables), else undefined. */
export function fixKernelGate(
  cell: Cell,
  fix: Fix | undefined,
  kernel: KernelCapability | undefined,
): string | undefined {
  if (cell.provider !== "dind" || kernel?.legacyXtables !== "absent" || !fix?.needsLegacyXtables) return undefined;
  return `${lacking(kernel)}, and ${fix.name} needs them`;
}

/** The attempt of a fix that was not run because the kernel cannot carry it. */
export const notRunAttempt = (name: string, reason: string): AttemptResult => ({
  name,
  status: "not-applicable",
  reason,
  probes: [],
  userActions: [],
  errors: [],
  rules: {},
  missingRules: [],
  targets: [],
  dockerdLog: "",
  steps: [],
  timingsMs: {},
});

/** The cell's kernel: its baseline's reading, else (a dind cell that did not run) the one read for the run. */
export function withKernel(result: CellResult, cell: Cell, dindKernel: KernelCapability | undefined): CellResult {
  const kernel = result.kernel ?? result.baseline?.kernel ?? (cell.provider === "dind" ? dindKernel : undefined);
  return kernel ? { ...result, kernel } : result;
}
