import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const root = new URL("../../", import.meta.url);

describe("the README's testcontainers example", () => {
  it("is, verbatim, the integration test that runs it", () => {
    const readme = readFileSync(new URL("README.md", root), "utf8");
    const marker = "<!-- example: test/integration/testcontainers-example.test.ts -->\n```ts\n";
    const start = readme.indexOf(marker);
    expect(start, "the README marks the example").toBeGreaterThan(0);
    const quoted = readme.slice(start + marker.length, readme.indexOf("```", start + marker.length));
    expect(quoted).toBe(readFileSync(new URL("test/integration/testcontainers-example.test.ts", root), "utf8"));
  });
});
