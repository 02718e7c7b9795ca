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

/** How far `auto` may move the concurrency while the run goes, by the CPU it measures. */
export interface ConcurrencyRange {
  min: number;
  max: number;
}

export function resolveConcurrency(
  choice: ConcurrencyChoice,
  machine: MachineCapacity,
): { value: number; why: string; range?: ConcurrencyRange } {
  if (choice !== "auto") return { value: choice, why: "" };
  const gib = (machine.freeMemBytes / 2 ** 30).toFixed(1);
  const value = autoConcurrency(machine, DIND_BUDGET);
  // memory bounds it from above; below one attempt per core an attempt's waits leave cores idle
  const max = autoConcurrency(machine, { ...DIND_BUDGET, perCore: MAX_CONCURRENCY });
  const range = { min: Math.min(value, Math.max(1, machine.cores)), max };
  return {
    value,
    range,
    why: `auto: ${machine.cores} core(s) x ${ATTEMPTS_PER_CORE} to start, ${range.min}-${range.max} as the CPU measured allows, ${gib} GiB free / ${MEMORY_PER_ATTEMPT / 2 ** 20} MiB per attempt`,
  };
}

/** The machine's CPU counted busy at or above this share: fewer attempts. */
export const CPU_SATURATED = 0.95;
/** Below this share, with attempts waiting for a slot: one more at once. */
export const CPU_TO_SPARE = 0.8;
/** How often a run of `auto` concurrency measures the CPU and may move by one. */
export const CPU_SAMPLE_MS = 5000;

/**
 * The next dind concurrency of an `auto` run from the CPU measured over the last interval
 * (the whole machine's, busy share 0-1): an attempt spends much of its time waiting (the
 * engine, probe timeouts), so how many keep the cores busy depends on the cells and on what
 * else runs on the machine. One more while the CPU has room and attempts wait for a slot;
 * one fewer while it is saturated; within the range.
 */
export function nextConcurrency(
  limit: number,
  measured: { cpuBusy: number; waiting: number },
  range: ConcurrencyRange,
): number {
  if (measured.cpuBusy >= CPU_SATURATED) return Math.max(range.min, limit - 1);
  if (measured.cpuBusy < CPU_TO_SPARE && measured.waiting > 0) return Math.min(range.max, limit + 1);
  return Math.min(range.max, Math.max(range.min, limit));
}
