import { defineConfig } from "vitest/config";

export default defineConfig({
  // Tests and the README example import the package by name, as its users do: from the sources here.
  resolve: { alias: [{ find: /^fwcompat$/, replacement: new URL("./src/index.ts", import.meta.url).pathname }] },
  test: {
    include: ["test/**/*.test.ts"],
    // Integration tests share one engine and build images: run files one after another.
    fileParallelism: false,
    testTimeout: 30_000,
    // No registry here for the testcontainers reaper image; fwcompat's labels and sweeps clean up.
    env: { TESTCONTAINERS_RYUK_DISABLED: "true" },
    reporters: ["default", "junit"],
    outputFile: { junit: "test-results/junit.xml" },
  },
});
