import { describe, expect, it } from "vitest";
import { clipKeepingEnd } from "../../src/api/user-action.js";

describe("a user action's error text", () => {
  it("is kept whole when short", () => {
    expect(clipKeepingEnd("Error response from daemon: driver failed")).toBe(
      "Error response from daemon: driver failed",
    );
  });

  it("keeps its first line and its end when long, where a failing daemon says why", () => {
    const log = [
      "dockerd exited during start",
      ...Array.from({ length: 40 }, (_, i) => `info line ${i} ${"x".repeat(80)}`),
    ];
    log.push('level=error msg="failed to start daemon: failed to create NAT chain DOCKER (exit status 111)"');
    const clipped = clipKeepingEnd(log.join("\n"));
    expect(clipped.length).toBeLessThanOrEqual(2000);
    expect(clipped.startsWith("dockerd exited during start\n…\n")).toBe(true);
    expect(clipped.endsWith('(exit status 111)"')).toBe(true);
    expect(clipped).not.toContain("info line 0 ");
  });
});
