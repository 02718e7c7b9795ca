import { execa } from "execa";

const CLI = new URL("../../src/cli/main.ts", import.meta.url).pathname;

/** Runs the real CLI in a child process, as a user would. */
export function runCli(args: string[], options: { timeoutMs: number; env?: Record<string, string> }) {
  return execa(process.execPath, ["--import", "tsx", CLI, ...args], {
    reject: false,
    timeout: options.timeoutMs,
    env: options.env,
    cwd: new URL("../../", import.meta.url).pathname,
  });
}

/** Containers on the outer engine carrying fwcompat's run label (optionally one run's). */
export async function labelledContainers(runId?: string): Promise<number> {
  const label = runId ? `io.fwcompat.run=${runId}` : "io.fwcompat.run";
  const out = await execa("docker", ["ps", "-aq", "--filter", `label=${label}`]);
  return out.stdout.split("\n").filter(Boolean).length;
}
