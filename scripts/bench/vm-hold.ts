// How much of a matrix run's wall the VM attempts hold the dind slots, from what the run logs
// (`[hh:mm:ss] <cell>: <attempt> started`, and the VM lane's line naming the slots) and the
// attempts' own timings.

/** Seconds since the log's first stamped line at which each `<cell>: <attempt> started` line was written. */
export function attemptStarts(log: string): Map<string, number> {
  const starts = new Map<string, number>();
  let first: number | undefined;
  let dayOffset = 0;
  let previous = -1;
  for (const line of log.split("\n")) {
    const m = /^\[(\d\d):(\d\d):(\d\d)\] (.*)$/.exec(line);
    if (!m) continue;
    let at = Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) + dayOffset;
    if (at < previous) {
      dayOffset += 86_400; // the run went past midnight
      at += 86_400;
    }
    previous = at;
    first ??= at;
    const started = /^(\S+): (\S+) started$/.exec(m[4] as string);
    if (started) starts.set(`${started[1]}|${started[2]}`, at - first);
  }
  return starts;
}

/** The dind slots and each running VM's share of them, as the run's VM lane line states them. */
export function slotsFromLog(log: string): { dindSlots: number; slotsPerVm: number } | undefined {
  const m = /each running VM holds (\d+) of the (\d+) dind slots/.exec(log);
  return m ? { slotsPerVm: Number(m[1]), dindSlots: Number(m[2]) } : undefined;
}

export interface Interval {
  startMs: number;
  endMs: number;
}

/**
 * heldMs: wall time with at least one VM attempt running; slotShare: the dind slot-time the
 * running VMs held (each `slotsPerVm`, together at most every slot) over the slots' capacity
 * for the whole wall.
 */
export function vmSlotHold(
  vms: readonly Interval[],
  dindSlots: number,
  slotsPerVm: number,
  wallMs: number,
): { heldMs: number; slotShare: number } {
  const edges = vms.flatMap((v) => [
    { at: v.startMs, delta: 1 },
    { at: v.endMs, delta: -1 },
  ]);
  edges.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let running = 0;
  let last = 0;
  let heldMs = 0;
  let slotMs = 0;
  for (const edge of edges) {
    const span = edge.at - last;
    if (running > 0) {
      heldMs += span;
      slotMs += span * Math.min(dindSlots, running * slotsPerVm);
    }
    running += edge.delta;
    last = edge.at;
  }
  return { heldMs, slotShare: wallMs > 0 && dindSlots > 0 ? slotMs / (dindSlots * wallMs) : 0 };
}
