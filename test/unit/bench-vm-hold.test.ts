import { describe, expect, it } from "vitest";
import { attemptStarts, slotsFromLog, vmSlotHold } from "../../scripts/bench/vm-hold.js";

describe("the bench: how much of the wall the VM attempts hold the dind slots", () => {
  it("reads when each attempt started from the run's log, across midnight", () => {
    const log = [
      "[23:59:58] run r1: 3 cell(s), concurrency 4",
      "[23:59:59] vm-cell: baseline started",
      "garbage line",
      "[00:00:03] dind-cell: restart-dockerd started",
      "[00:00:04] VM lane: up to 2 VM(s) at once; each running VM holds 2 of the 4 dind slots",
    ].join("\n");
    expect([...attemptStarts(log)]).toEqual([
      ["vm-cell|baseline", 1],
      ["dind-cell|restart-dockerd", 5],
    ]);
    expect(slotsFromLog(log)).toEqual({ dindSlots: 4, slotsPerVm: 2 });
    expect(slotsFromLog("no VM lane here")).toBeUndefined();
  });

  it("counts overlapping VMs once in the held time and up to every slot in the share", () => {
    // 100 s of wall, 4 dind slots, 2 per VM: one VM 0-40 s, another 20-60 s
    const held = vmSlotHold(
      [
        { startMs: 0, endMs: 40_000 },
        { startMs: 20_000, endMs: 60_000 },
      ],
      4,
      2,
      100_000,
    );
    expect(held.heldMs).toBe(60_000);
    // 20 s at 2 slots + 20 s at 4 slots + 20 s at 2 slots = 160 slot-seconds of 400
    expect(held.slotShare).toBeCloseTo(0.4);
    // on a machine with fewer slots than two VMs ask for, the VMs hold at most all of them
    expect(
      vmSlotHold(
        [
          { startMs: 0, endMs: 10_000 },
          { startMs: 0, endMs: 10_000 },
        ],
        2,
        2,
        20_000,
      ).slotShare,
    ).toBeCloseTo(0.5);
  });
});
