import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const root = new URL("../../", import.meta.url);

describe("the testcontainers example in docs/testcontainers.md", () => {
  it("is, verbatim, the integration test that runs it", () => {
    const page = readFileSync(new URL("docs/testcontainers.md", root), "utf8");
    const marker = "<!-- example: test/integration/testcontainers-example.test.ts -->\n```ts\n";
    const start = page.indexOf(marker);
    expect(start, "the page marks the example").toBeGreaterThan(0);
    const quoted = page.slice(start + marker.length, page.indexOf("```", start + marker.length));
    expect(quoted).toBe(readFileSync(new URL("test/integration/testcontainers-example.test.ts", root), "utf8"));
  });
});
