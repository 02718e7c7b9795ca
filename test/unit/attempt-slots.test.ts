import { describe, expect, it } from "vitest";
import { AttemptSlots } from "../../src/run/attempt-slots.js";

/** Work that ends when told to, and says whether it has started. */
function gated() {
  let end!: () => void;
  const state = { started: false };
  const done = new Promise<void>((resolve) => (end = resolve));
  return { state, end, work: async () => ((state.started = true), done) };
}
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("dind attempt slots give way to running VM attempts", () => {
  it("without VMs, as many dind attempts as slots run at once, the next when one ends", async () => {
    const slots = new AttemptSlots(2, 2);
    const jobs = [gated(), gated(), gated()];
    const runs = jobs.map((j) => slots.dind(j.work));
    await settle();
    expect(jobs.map((j) => j.state.started)).toEqual([true, true, false]);
    jobs[0]?.end();
    await settle();
    expect(jobs[2]?.state.started).toBe(true);
    jobs.forEach((j) => j.end());
    await Promise.all(runs);
  });

  it("each running VM holds two of four dind slots: two VMs hold them all until one ends, first come first served", async () => {
    const slots = new AttemptSlots(4, 2);
    const vms = [gated(), gated()];
    const vmRuns = vms.map((v) => slots.vm(v.work));
    const jobs = [gated(), gated(), gated()];
    const runs = jobs.map((j) => slots.dind(j.work));
    await settle();
    expect(jobs.map((j) => j.state.started)).toEqual([false, false, false]);
    vms[0]?.end();
    await settle();
    expect(jobs.map((j) => j.state.started)).toEqual([true, true, false]);
    vms[1]?.end();
    await settle();
    expect(jobs[2]?.state.started).toBe(true);
    jobs.forEach((j) => j.end());
    await Promise.all([...runs, ...vmRuns]);
  });

  it("a failing attempt gives its slot back", async () => {
    const slots = new AttemptSlots(1, 2);
    await expect(slots.dind(async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(await slots.dind(async () => "next")).toBe("next");
  });
});
