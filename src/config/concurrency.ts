/** How many attempts run at once: a number, or "auto" (chosen from the machine's cores and free memory). */
export type ConcurrencyChoice = number | "auto";

export interface MachineCapacity {
  cores: number;
  freeMemBytes: number;
}

/** What one Docker-in-Docker attempt holds at its peak: the host's dockerd, containerd and four workload containers, measured at about 400 MiB. */
export const MEMORY_PER_ATTEMPT = 512 * 2 ** 20;
/** An attempt spends much of its time waiting on probes and on the engine, so more attempts than cores keep the cores busy. */
export const ATTEMPTS_PER_CORE = 2;
export const MAX_CONCURRENCY = 16;

export function resolveConcurrency(choice: ConcurrencyChoice, machine: MachineCapacity): { value: number; why: string } {
  if (choice !== "auto") return { value: choice, why: "" };
  const byCores = Math.max(1, machine.cores * ATTEMPTS_PER_CORE);
  const byMemory = Math.max(1, Math.floor(machine.freeMemBytes / MEMORY_PER_ATTEMPT));
  const value = Math.min(byCores, byMemory, MAX_CONCURRENCY);
  const gib = (machine.freeMemBytes / 2 ** 30).toFixed(1);
  return { value, why: `auto: ${machine.cores} core(s) x ${ATTEMPTS_PER_CORE}, ${gib} GiB free / ${MEMORY_PER_ATTEMPT / 2 ** 20} MiB per attempt` };
}
