import { describe, expect, it } from "vitest";
import { duration, RunProgress } from "../../src/cli/progress.js";

const s = (seconds: number) => seconds * 1000;

describe("the live progress of a run", () => {
  it("says images are being prepared until the attempts are planned", () => {
    const progress = new RunProgress(0);
    expect(progress.render(s(75))).toBe("fwcompat · preparing images · 1m15s elapsed");
  });

  it("counts attempts, names the cells running with their attempts, and waits for a first attempt before an ETA", () => {
    const progress = new RunProgress(0);
    progress.apply({ kind: "planned", attempts: 6 }, s(10));
    progress.apply({ kind: "attempt-started", cell: "cell-a", attempt: "baseline" }, s(20));
    progress.apply({ kind: "attempt-started", cell: "cell-a", attempt: "restart-dockerd" }, s(20));
    progress.apply({ kind: "attempt-started", cell: "cell-b", attempt: "baseline" }, s(21));
    expect(progress.render(s(30))).toBe(
      "fwcompat · 0/6 attempts done · 2 cells running · 30s elapsed · time left: after the first attempt\n" +
        "  running: cell-a (baseline, restart-dockerd); cell-b (baseline)",
    );
  });

  it("estimates the time left from the pace of the attempts finished so far", () => {
    const progress = new RunProgress(0);
    progress.apply({ kind: "planned", attempts: 6 }, s(10));
    progress.apply({ kind: "attempt-started", cell: "cell-a", attempt: "baseline" }, s(20));
    progress.apply({ kind: "attempt-started", cell: "cell-b", attempt: "baseline" }, s(20));
    progress.apply({ kind: "attempt-finished", cell: "cell-a", attempt: "baseline", ms: s(30) }, s(50));
    progress.apply({ kind: "attempt-finished", cell: "cell-b", attempt: "baseline", ms: s(60) }, s(80));
    // two attempts in the 60 s since the first started: 30 s each, four to go
    expect(progress.render(s(80))).toBe(
      "fwcompat · 2/6 attempts done · 0 cells running · 1m20s elapsed · about 2m00s left",
    );
  });

  it("drops the time left once every attempt is done", () => {
    const progress = new RunProgress(0);
    progress.apply({ kind: "planned", attempts: 1 }, 0);
    progress.apply({ kind: "attempt-started", cell: "cell-a", attempt: "baseline" }, s(1));
    progress.apply({ kind: "attempt-finished", cell: "cell-a", attempt: "baseline", ms: s(20) }, s(21));
    expect(progress.render(s(22))).toBe("fwcompat · 1/1 attempts done · 0 cells running · 22s elapsed");
  });

  it("clips the running line to the terminal's width", () => {
    const progress = new RunProgress(0);
    progress.apply({ kind: "planned", attempts: 1 }, 0);
    progress.apply({ kind: "attempt-started", cell: "x".repeat(200), attempt: "baseline" }, 0);
    const [, running] = progress.render(0, 40).split("\n");
    expect(running).toHaveLength(40);
    expect(running?.endsWith("…")).toBe(true);
  });

  it("writes durations the way people read them", () => {
    expect([duration(0), duration(59_400), duration(61_000), duration(s(3600 + 125))]).toEqual([
      "0s",
      "59s",
      "1m01s",
      "1h02m",
    ]);
  });
});
