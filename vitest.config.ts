import { defineConfig } from "vitest/config";
import { CompiledEnginesLast } from "./test/support/compiled-last-sequencer.js";

// Three tiers, run in this order (docs/testing.md): unit (pure logic), local (real binaries, no
// engine), integration (the Docker engine, real hosts and VMs).
export default defineConfig({
  // Tests and the README example import the package by name, as its users do: from the sources here.
  resolve: { alias: [{ find: /^fwcompat$/, replacement: new URL("./src/index.ts", import.meta.url).pathname }] },
  test: {
    testTimeout: 30_000,
    reporters: ["default", "junit"],
    outputFile: { junit: "test-results/junit.xml" },
    // Vitest orders every project's files with the root's sequencer: this one runs the integration
    // files that need a compiled engine after the others, while the warm-up compiles it.
    sequence: { sequencer: CompiledEnginesLast },
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          // pure code, no child processes: threads start faster than the default forks
          pool: "threads",
          include: ["test/unit/**/*.test.ts"],
          setupFiles: ["test/support/unit-purity.ts"],
          // Any engine call a unit test makes by mistake fails at once instead of reaching a real engine.
          env: {
            DOCKER_HOST: "unix:///nonexistent/fwcompat-unit-tests-have-no-engine.sock",
            // the tests' own settings decide, whatever the shell running them says
            FWCOMPAT_ALLOW_DOWNLOADS: "",
          },
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: "local",
          include: ["test/local/**/*.test.ts"],
          // download tests talk to servers on 127.0.0.1 under their own settings
          env: { FWCOMPAT_ALLOW_DOWNLOADS: "" },
          sequence: { groupOrder: 1 },
        },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          globalSetup: ["test/support/integration-setup.ts"],
          setupFiles: ["test/support/integration-ready.ts"],
          // Integration tests share one engine and build images: run files one after another.
          fileParallelism: false,
          // No registry here for the testcontainers reaper image; fwcompat's labels and sweeps clean up.
          // No traffic off this machine: a source a test leaves missing is not fetched from upstream
          // (the one download test serves its files on 127.0.0.1 and allows downloads itself).
          env: { TESTCONTAINERS_RYUK_DISABLED: "true", FWCOMPAT_ALLOW_DOWNLOADS: "false" },
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
