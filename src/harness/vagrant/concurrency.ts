import { availableParallelism, freemem } from "node:os";
import { autoConcurrency, type ConcurrencyBudget } from "../../config/concurrency.js";

const GIB = 2 ** 30;
/** Host memory one 1-GiB guest takes under emulation (QEMU's own share included), measured 1.5-1.8 GiB. */
export const VM_MEMORY_BYTES = 1.8 * GIB;
/** Left for the dind lane and the harness itself. */
export const MEMORY_RESERVE_BYTES = 2 * GIB;
/** At most one VM per core: a guest's vCPU keeps a core busy under emulation. */
const VM_BUDGET: ConcurrencyBudget = {
  perCore: 1,
  memoryPerAttempt: VM_MEMORY_BYTES,
  reserveBytes: MEMORY_RESERVE_BYTES,
  max: 8,
};

/** VMs at once for `vmConcurrency: auto`: as many as the available memory holds after the reserve, at most one per core, at least one. */
export function vmConcurrencyFor(availableBytes: number, cores: number): number {
  return autoConcurrency({ cores, freeMemBytes: availableBytes }, VM_BUDGET);
}

/** The number the matrix asked for, or the one this machine's available memory and cores allow now. */
export function resolveVmConcurrency(setting: number | "auto"): number {
  return setting === "auto" ? vmConcurrencyFor(freemem(), availableParallelism()) : setting;
}
