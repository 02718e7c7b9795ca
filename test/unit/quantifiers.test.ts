import { describe, expect, it } from "vitest";
import { expectEvery, expectNone } from "../support/quantifiers.js";

describe("the tests' quantifiers", () => {
  it("expectEvery fails on an empty or missing list, and names the items that break the rule", () => {
    expect(() => expectEvery([], () => true, "probes")).toThrow(/probes: empty, so 'every' would hold vacuously/);
    expect(() => expectEvery(undefined, () => true, "probes")).toThrow(/probes: missing/);
    expect(() => expectEvery([1, 2, 3], (n) => n < 3)).toThrow(/items that do not hold/);
    expectEvery([1, 2, 3], (n) => n > 0);
  });

  it("expectNone fails on an empty or missing list, and names the items that match", () => {
    expect(() => expectNone([], () => false, "rules")).toThrow(/rules: empty, so 'none' would hold vacuously/);
    expect(() => expectNone(undefined, () => false)).toThrow(/missing/);
    expect(() => expectNone(["a", "b"], (s) => s === "b")).toThrow(/should not hold/);
    expectNone(["a", "b"], (s) => s === "c");
  });
});
