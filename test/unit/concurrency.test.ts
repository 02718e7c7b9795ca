import { describe, expect, it } from "vitest";
import { concurrencyValue } from "../../src/cli/option-values.js";
import { CPU_SATURATED, nextConcurrency, resolveConcurrency } from "../../src/config/concurrency.js";
import { AttemptSlots } from "../../src/run/attempt-slots.js";
import { followCpu } from "../../src/run/follow-cpu.js";
import { vi } from "vitest";

const GiB = 2 ** 30;

describe("--concurrency auto", () => {
  it("takes two attempts per core while memory allows, and fewer when it does not", () => {
    expect(resolveConcurrency("auto", { cores: 2, freeMemBytes: 20 * GiB }).value).toBe(4);
    expect(resolveConcurrency("auto", { cores: 8, freeMemBytes: 1.6 * GiB }).value).toBe(3);
    expect(resolveConcurrency("auto", { cores: 64, freeMemBytes: 512 * GiB }).value).toBe(16);
    expect(resolveConcurrency("auto", { cores: 1, freeMemBytes: 0.1 * GiB }).value).toBe(1);
  });

  it("says why, and leaves a number the user gave alone", () => {
    expect(resolveConcurrency("auto", { cores: 2, freeMemBytes: 20 * GiB }).why).toMatch(
      /^auto: 2 core\(s\) x 2 to start, 2-16 as the CPU measured allows, 20\.0 GiB free/,
    );
    expect(resolveConcurrency(3, { cores: 64, freeMemBytes: 512 * GiB })).toEqual({ value: 3, why: "" });
  });

  it("is accepted on the command line beside whole numbers; anything else is one clear error", () => {
    expect(concurrencyValue("auto")).toBe("auto");
    expect(concurrencyValue("3")).toBe(3);
    expect(() => concurrencyValue("many")).toThrow("--concurrency 'many': use a whole number from 1 to 16 or 'auto'");
  });
});

describe("--concurrency auto follows the CPU it measures", () => {
  it("may move from one attempt per core up to what memory allows; a number the user gave does not move", () => {
    expect(resolveConcurrency("auto", { cores: 2, freeMemBytes: 20 * GiB }).range).toEqual({ min: 2, max: 16 });
    expect(resolveConcurrency("auto", { cores: 8, freeMemBytes: 1.6 * GiB }).range).toEqual({ min: 3, max: 3 });
    expect(resolveConcurrency("auto", { cores: 2, freeMemBytes: 3 * GiB }).range).toEqual({ min: 2, max: 6 });
    expect(resolveConcurrency(4, { cores: 2, freeMemBytes: 20 * GiB }).range).toBeUndefined();
  });

  it("one more while the CPU has room and attempts wait; one fewer while it is saturated; else as it is", () => {
    const range = { min: 2, max: 6 };
    expect(nextConcurrency(4, { cpuBusy: 0.5, waiting: 3 }, range)).toBe(5);
    expect(nextConcurrency(6, { cpuBusy: 0.5, waiting: 3 }, range)).toBe(6);
    expect(nextConcurrency(4, { cpuBusy: 0.5, waiting: 0 }, range)).toBe(4);
    expect(nextConcurrency(4, { cpuBusy: 0.9, waiting: 3 }, range)).toBe(4);
    expect(nextConcurrency(4, { cpuBusy: CPU_SATURATED, waiting: 3 }, range)).toBe(3);
    expect(nextConcurrency(2, { cpuBusy: 1, waiting: 3 }, range)).toBe(2);
  });

  it("a run's slots follow the samples: more attempts start when the CPU idles, none start while it is saturated", async () => {
    vi.useFakeTimers();
    try {
      const slots = new AttemptSlots(2, 2);
      const ends: Array<() => void> = [];
      let started = 0;
      const work = () =>
        new Promise<void>((resolve) => {
          started++;
          ends.push(resolve);
        });
      const runs = Array.from({ length: 5 }, () => slots.dind(work));
      await Promise.resolve();
      expect(started).toBe(2);
      const samples = [0.4, 0.4, 0.99, 0.99];
      const lines: string[] = [];
      const following = followCpu(
        slots,
        { min: 2, max: 4 },
        () => samples.shift() ?? 0.9,
        (l) => lines.push(l),
        1000,
      );
      await vi.advanceTimersByTimeAsync(2000);
      expect(slots.dindSlots).toBe(4);
      expect(started).toBe(4);
      await vi.advanceTimersByTimeAsync(2000);
      expect(slots.dindSlots).toBe(2);
      // two attempts end: the run is over its new limit, so the waiting one does not start
      ends.splice(0, 2).forEach((end) => end());
      await vi.advanceTimersByTimeAsync(0);
      expect(started).toBe(4);
      expect(lines).toEqual([
        "concurrency 2 -> 3: CPU 40% busy, 3 attempt(s) waiting for a slot",
        "concurrency 3 -> 4: CPU 40% busy, 2 attempt(s) waiting for a slot",
        "concurrency 4 -> 3: CPU 99% busy, 1 attempt(s) waiting for a slot",
        "concurrency 3 -> 2: CPU 99% busy, 1 attempt(s) waiting for a slot",
      ]);
      following.stop();
      ends.splice(0).forEach((end) => end());
      await vi.advanceTimersByTimeAsync(0);
      ends.splice(0).forEach((end) => end());
      await Promise.all(runs);
    } finally {
      vi.useRealTimers();
    }
  });
});
