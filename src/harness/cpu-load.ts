import { cpus } from "node:os";

/** The machine's CPU time so far, summed over its cores: busy and total, in ms. */
function cpuTimes(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const { times } of cpus()) {
    const all = times.user + times.nice + times.sys + times.idle + times.irq;
    total += all;
    busy += all - times.idle;
  }
  return { busy, total };
}

/** Each call: the share (0-1) of the machine's CPU that was busy since the previous call (or since this was made). */
export function cpuBusySampler(): () => number {
  let last = cpuTimes();
  return () => {
    const now = cpuTimes();
    const total = now.total - last.total;
    const busy = now.busy - last.busy;
    last = now;
    return total > 0 ? busy / total : 0;
  };
}
