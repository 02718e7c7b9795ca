import { access } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { execa, type ResultPromise } from "execa";

const ROOT = new URL("../../", import.meta.url).pathname;
const CLI = new URL("../../src/cli/main.ts", import.meta.url).pathname;

/** Runs the real CLI in a child process, as a user would. */
export function runCli(args: string[], options: { timeoutMs: number; env?: Record<string, string> }) {
  return execa(process.execPath, ["--import", "tsx", CLI, ...args], {
    reject: false,
    timeout: options.timeoutMs,
    env: options.env,
    cwd: ROOT,
  });
}

/** Starts the CLI and resolves the run id as soon as the run announces it. */
export function startRun(
  args: string[],
  env?: Record<string, string>,
): { child: ResultPromise; runId: Promise<string>; output: () => string } {
  const child = execa(process.execPath, ["--import", "tsx", CLI, ...args], {
    reject: false,
    cwd: ROOT,
    timeout: 30 * 60_000,
    env,
  });
  let output = "";
  const runId = new Promise<string>((resolve, reject) => {
    child.stderr?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const match = /\brun (\d{14}-[0-9a-f]{6}):/.exec(output);
      if (match?.[1]) resolve(match[1]);
    });
    void child.then(() => reject(new Error(`run ended before announcing its id:\n${output}`)));
  });
  return { child, runId, output: () => output };
}

/**
 * One run's resources on the outer engine, counted by its run label. Never every run's: other
 * runs (another test file, another checkout) may share the engine.
 */
export async function labelled(kind: "ps -a" | "network ls" | "volume ls", runId: string | undefined): Promise<number> {
  if (!runId) throw new Error("no run id: count one run's resources, not every run's on the engine");
  const out = await execa("docker", [...kind.split(" "), "-q", "--filter", `label=io.fwcompat.run=${runId}`]);
  return out.stdout.split("\n").filter(Boolean).length;
}

export const labelledContainers = (runId: string | undefined) => labelled("ps -a", runId);

export async function leftovers(runId: string): Promise<{ containers: number; networks: number; volumes: number }> {
  const [containers, networks, volumes] = await Promise.all([
    labelled("ps -a", runId),
    labelled("network ls", runId),
    labelled("volume ls", runId),
  ]);
  return { containers, networks, volumes };
}

/** Polls until `check` holds, at most `ms`. */
export async function waitFor(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

/** Containers a given fwcompat process created (by its pid label): unlike a count of all labelled ones, other runs on the engine do not change it. */
export async function containersCreatedBy(pid: number | undefined): Promise<number> {
  if (!pid) throw new Error("no pid: the CLI did not start");
  const out = await execa("docker", ["ps", "-a", "-q", "--filter", `label=io.fwcompat.pid=${pid}`]);
  return out.stdout.split("\n").filter(Boolean).length;
}

/**
 * The local source directory for tests: FWCOMPAT_SOURCE_DIR when set, else `../shared/sources`
 * next to the repository (the main checkout's, when this is a git worktree).
 */
export async function sourceDirForTests(): Promise<string> {
  if (process.env.FWCOMPAT_SOURCE_DIR) return process.env.FWCOMPAT_SOURCE_DIR;
  const common = await execa("git", ["rev-parse", "--path-format=absolute", "--git-common-dir"], {
    cwd: ROOT,
    reject: false,
  });
  const repo = common.exitCode === 0 ? dirname(common.stdout.trim()) : ROOT;
  return resolve(repo, "..", "shared", "sources");
}

/** A file the test needs from the local source directory; its absence fails the test, saying what to set. */
export async function sourceFileForTests(file: string): Promise<{ sources: string; path: string }> {
  const sources = await sourceDirForTests();
  const path = join(sources, file);
  await access(path).catch(() => {
    throw new Error(`${file} is not in ${sources}: set FWCOMPAT_SOURCE_DIR to the directory holding ${file}`);
  });
  return { sources, path };
}
