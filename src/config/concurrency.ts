/** How many attempts run at once: a number, or "auto" (chosen from the machine's cores and free memory). */
export type ConcurrencyChoice = number | "auto";

export interface MachineCapacity {
  cores: number;
  freeMemBytes: number;
}

/** What `auto` allows per core and per byte of free memory, for one kind of attempt. */
export interface ConcurrencyBudget {
  perCore: number;
  memoryPerAttempt: number;
  /** memory left for everything else before any attempt counts */
  reserveBytes: number;
  max: number;
}

/** What one Docker-in-Docker attempt holds at its peak: the host's dockerd, containerd and four workload containers, measured at about 400 MiB. */
export const MEMORY_PER_ATTEMPT = 512 * 2 ** 20;
/** An attempt spends much of its time waiting on probes and on the engine, so more attempts than cores keep the cores busy. */
export const ATTEMPTS_PER_CORE = 2;
export const MAX_CONCURRENCY = 16;
export const DIND_BUDGET: ConcurrencyBudget = {
  perCore: ATTEMPTS_PER_CORE,
  memoryPerAttempt: MEMORY_PER_ATTEMPT,
  reserveBytes: 0,
  max: MAX_CONCURRENCY,
};

/** As many as the cores and the free memory (after the reserve) allow, at most the budget's max, at least one. */
export function autoConcurrency(machine: MachineCapacity, budget: ConcurrencyBudget): number {
  const byCores = machine.cores * budget.perCore;
  const byMemory = Math.floor((machine.freeMemBytes - budget.reserveBytes) / budget.memoryPerAttempt);
  return Math.max(1, Math.min(byCores, byMemory, budget.max));
}

export function resolveConcurrency(
  choice: ConcurrencyChoice,
  machine: MachineCapacity,
): { value: number; why: string } {
  if (choice !== "auto") return { value: choice, why: "" };
  const gib = (machine.freeMemBytes / 2 ** 30).toFixed(1);
  return {
    value: autoConcurrency(machine, DIND_BUDGET),
    why: `auto: ${machine.cores} core(s) x ${ATTEMPTS_PER_CORE}, ${gib} GiB free / ${MEMORY_PER_ATTEMPT / 2 ** 20} MiB per attempt`,
  };
}
