import { describe, expect, it } from "vitest";
import { concurrencyValue } from "../../src/cli/option-values.js";
import { resolveConcurrency } from "../../src/config/concurrency.js";

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
      /^auto: 2 core\(s\) x 2, 20\.0 GiB free/,
    );
    expect(resolveConcurrency(3, { cores: 64, freeMemBytes: 512 * GiB })).toEqual({ value: 3, why: "" });
  });

  it("is accepted on the command line beside whole numbers; anything else is one clear error", () => {
    expect(concurrencyValue("auto")).toBe("auto");
    expect(concurrencyValue("3")).toBe(3);
    expect(() => concurrencyValue("many")).toThrow("--concurrency 'many': use a whole number from 1 to 16 or 'auto'");
  });
});
