import { describe, expect, it } from "vitest";
import { ENGINE_FEATURES, engineHas } from "../../src/config/engine-features.js";
import { offendingLines, sourceFiles } from "../support/source-lines.js";

/** A string literal that is an engine release (two-digit major): "28.0.0", '29.0'. */
const ENGINE_VERSION_LITERAL = /(["'`])\d{2,}\.\d+(?:\.\d+)?\1/;
const TABLE = "src/config/engine-features.ts";

describe("the engine-features table", () => {
  it("is the only place that spells an engine version to compare against", () => {
    const files = sourceFiles("src", "scenarios", "scripts");
    expect(offendingLines([TABLE], ENGINE_VERSION_LITERAL)).toHaveLength(Object.keys(ENGINE_FEATURES).length);
    expect(
      offendingLines(
        files.filter((f) => f !== TABLE),
        ENGINE_VERSION_LITERAL,
      ),
    ).toEqual([]);
  });

  it("answers by version, the first release included", () => {
    expect(engineHas("29.0.0", "nftablesBackend")).toBe(true);
    expect(engineHas("28.5.2", "nftablesBackend")).toBe(false);
    expect(engineHas("28.0.0", "ipForwardNoDrop")).toBe(true);
    expect(engineHas("26.1.5", "forwardChains")).toBe(false);
  });
});
