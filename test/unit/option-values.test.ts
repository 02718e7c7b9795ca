import { describe, expect, it } from "vitest";
import { UserError } from "../../src/errors.js";
import {
  collect,
  concurrencyValue,
  formatValue,
  oneOfWords,
  outputDirOf,
  repeatValue,
  seedValue,
  wholeNumber,
} from "../../src/cli/option-values.js";

describe("option values", () => {
  it("whole numbers: the range's ends are accepted, anything else is named with the range", () => {
    const count = wholeNumber("count", 5);
    expect(count("1")).toBe(1);
    expect(count("5")).toBe(5);
    for (const bad of ["0", "6", "2.5", "-1", "two", ""])
      expect(() => count(bad), bad).toThrow(`--count '${bad}': use a whole number from 1 to 5`);
    expect(repeatValue("20")).toBe(20);
    expect(() => repeatValue("21")).toThrow("--repeat '21': use a whole number from 1 to 20");
  });

  it("--concurrency: a whole number up to 16 or auto", () => {
    expect(concurrencyValue("auto")).toBe("auto");
    expect(concurrencyValue("16")).toBe(16);
    expect(() => concurrencyValue("17")).toThrow("--concurrency '17': use a whole number from 1 to 16 or 'auto'");
    expect(() => concurrencyValue("AUTO")).toThrow(UserError);
  });

  it("--seed: up to 64 plain characters", () => {
    expect(seedValue("order-33.a_b")).toBe("order-33.a_b");
    expect(seedValue("x".repeat(64))).toBe("x".repeat(64));
    expect(() => seedValue("x".repeat(65))).toThrow(/^--seed 'x+': use up to 64 letters, digits, '\.', '_' or '-'$/);
    expect(() => seedValue("a/b")).toThrow("--seed 'a/b'");
  });

  it("word choices name every word allowed", () => {
    expect(formatValue("gha")).toBe("gha");
    expect(() => formatValue("xml")).toThrow("--format 'xml': use gha, json or text");
    const by = oneOfWords("by", ["probe", "traffic"] as const);
    expect(by("traffic")).toBe("traffic");
    expect(() => by("Probe")).toThrow("--by 'Probe': use probe or traffic");
  });

  it("a repeated option collects its values in order without changing the earlier list", () => {
    const first = collect("scenario=a");
    const second = collect("engine=b", first);
    expect(second).toEqual(["scenario=a", "engine=b"]);
    expect(first).toEqual(["scenario=a"]);
  });

  it("--resume names the output directory; a different --out is a mistake", () => {
    expect(outputDirOf({ resume: "r", out: undefined })).toBe("r");
    expect(outputDirOf({ resume: "r", out: "r" })).toBe("r");
    expect(outputDirOf({ resume: undefined, out: "o" })).toBe("o");
    expect(outputDirOf({})).toBeUndefined();
    expect(() => outputDirOf({ resume: "r", out: "o" })).toThrow(
      "--resume DIR already names the output directory; drop --out",
    );
  });
});
