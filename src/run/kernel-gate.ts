import type { Scenario } from "../api/scenario.js";
import { scenarioLabel, type Cell } from "../config/expand.js";
import { machineKernelWithoutLegacy, type KernelCapability } from "../contract/kernel-capability.js";
import type { CellResult } from "../results/schema.js";

/**
 * A dind host runs on this machine's kernel. A cell meant for a kernel with the legacy xtables
 * tables (legacy backend, a scenario that needs them) cannot run faithfully where that kernel has
 * none: it is `unsupported` with the reason, never a result that would read as a reproduction.
 * VM cells run on their own guest kernel, whose state the cell itself sets up: they always run.
 * (A fix that needs the tables says so itself, from FixStart.sharedKernel: Fix.notApplicable.)
 */

/** Why the cell's baseline needs the legacy tables, or undefined when it does not. */
export function legacyNeedOf(cell: Cell, scenario: Scenario | undefined): string | undefined {
  if (cell.backend === "legacy") return "its iptables backend is legacy";
  if (scenario?.needsLegacyXtables?.(cell.variant))
    return `scenario ${scenarioLabel(cell)} runs in the dind lane as the kernel-with-legacy control`;
  return undefined;
}

/** The cell's status and reason when it cannot run on this kernel, else undefined. */
export function kernelGate(
  cell: Cell,
  kernel: KernelCapability | undefined,
  scenario: Scenario | undefined,
): { status: CellResult["status"]; reason: string } | undefined {
  const lacking = cell.provider === "dind" ? machineKernelWithoutLegacy(kernel) : undefined;
  const need = lacking && legacyNeedOf(cell, scenario);
  return need ? { status: "unsupported", reason: `${lacking}, and the cell needs them: ${need}` } : undefined;
}

/** The cell's kernel: its baseline's reading, else (a dind cell that did not run) the one read for the run. */
export function withKernel(result: CellResult, cell: Cell, dindKernel: KernelCapability | undefined): CellResult {
  const kernel = result.kernel ?? result.baseline?.kernel ?? (cell.provider === "dind" ? dindKernel : undefined);
  return kernel ? { ...result, kernel } : result;
}
