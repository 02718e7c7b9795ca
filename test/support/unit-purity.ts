import { vi } from "vitest";

// The unit tier is pure logic: no process is started, by a test or by the code it calls. A test
// that needs cc, sh, git or the engine belongs in test/local or test/integration (docs/testing.md).
const refuse = (what: string) => () => {
  throw new Error(
    `${what} in a unit test: test/unit is pure (no cc, bash, git, docker); move this test to test/local (see docs/testing.md)`,
  );
};

const CHILD_PROCESS_CALLS = ["spawn", "spawnSync", "exec", "execSync", "execFile", "execFileSync", "fork"] as const;
const EXECA_CALLS = ["execa", "execaSync", "execaCommand", "execaCommandSync", "execaNode", "$"] as const;

const refused = (names: readonly string[], module: string) =>
  Object.fromEntries(names.map((name) => [name, refuse(`${module} ${name}()`)]));

async function pureChildProcess(importOriginal: () => Promise<Record<string, unknown>>) {
  const original = await importOriginal();
  const calls = refused(CHILD_PROCESS_CALLS, "child_process");
  return { ...original, ...calls, default: { ...(original.default as object), ...calls } };
}

vi.mock("node:child_process", pureChildProcess);
vi.mock("child_process", pureChildProcess);
vi.mock("execa", async (importOriginal) => ({
  ...(await importOriginal<Record<string, unknown>>()),
  ...refused(EXECA_CALLS, "execa"),
}));
vi.mock("zx", async (importOriginal) => ({
  ...(await importOriginal<Record<string, unknown>>()),
  ...refused(["$"], "zx"),
}));
