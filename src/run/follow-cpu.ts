import { CPU_SAMPLE_MS, nextConcurrency, type ConcurrencyRange } from "../config/concurrency.js";
import type { AttemptSlots } from "./attempt-slots.js";

/**
 * An `auto` run's dind concurrency, moved by one at a time from the CPU measured every
 * interval (nextConcurrency says which way), with a log line for each move.
 */
export function followCpu(
  slots: AttemptSlots,
  range: ConcurrencyRange,
  cpuBusy: () => number,
  log: (line: string) => void,
  everyMs = CPU_SAMPLE_MS,
): { stop(): void } {
  const timer = setInterval(() => {
    const busy = cpuBusy();
    const now = slots.dindSlots;
    const next = nextConcurrency(now, { cpuBusy: busy, waiting: slots.waiting }, range);
    if (next === now) return;
    log(
      `concurrency ${now} -> ${next}: CPU ${(busy * 100).toFixed(0)}% busy, ${slots.waiting} attempt(s) waiting for a slot`,
    );
    slots.setDindSlots(next);
  }, everyMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
