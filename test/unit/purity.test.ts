import { execFileSync } from "node:child_process";
import { execa } from "execa";
import { describe, expect, it } from "vitest";

// The guard in test/support/unit-purity.ts keeps this tier pure; this test keeps the guard in place.
describe("the unit tier", () => {
  it("refuses to start a process, naming the tier to move the test to", () => {
    expect(() => execa("true")).toThrow(/test\/unit is pure .* move this test to test\/local/);
    expect(() => execFileSync("true")).toThrow(/test\/unit is pure/);
  });

  it("has no engine to reach", () => {
    expect(process.env.DOCKER_HOST).toMatch(/^unix:\/\/\/nonexistent\//);
  });
});
