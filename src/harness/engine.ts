import Docker from "dockerode";
import { PassThrough } from "node:stream";
import type { ExecResult } from "../contract/exec.js";
import { UserError } from "../errors.js";
import { TIMEOUT_MS } from "../contract/timeouts.js";

/** Label on everything fwcompat creates on the outer engine; its value is the run id. */
export const RUN_LABEL = "io.fwcompat.run";
/** Label with the creating process's pid, so a sweep can tell live runs from dead ones. */
export const PID_LABEL = "io.fwcompat.pid";
export const ROLE_LABEL = "io.fwcompat.role";
/** Label with the machine that created it: a pid means nothing on another machine. */
export const HOSTNAME_LABEL = "io.fwcompat.hostname";

export function connectEngine(): Docker {
  // dockerode reads DOCKER_HOST (and DOCKER_TLS_VERIFY / DOCKER_CERT_PATH) itself.
  return new Docker();
}

/** Fails fast with the cause and the remedy when the outer engine cannot be used. */
export async function assertEngineReachable(docker: Docker, timeoutMs = TIMEOUT_MS.engineReachable): Promise<string> {
  const where = process.env.DOCKER_HOST ?? "unix:///var/run/docker.sock";
  try {
    const version = await withDeadline(
      docker.version(),
      timeoutMs,
      `no answer from the Docker engine at ${where} within ${timeoutMs / 1000}s`,
    );
    return version.Version;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ECONNREFUSED") {
      throw new UserError(
        `no Docker engine at ${where} (${code}); start dockerd (see README: .ci/run does it) or set DOCKER_HOST`,
      );
    }
    if (code === "EACCES") throw new UserError(`no permission on ${where}; run as root or join the docker group`);
    if (error instanceof UserError) throw error;
    throw new UserError(`cannot use the Docker engine at ${where}: ${(error as Error).message.split("\n")[0]}`);
  }
}

/** Why the engine does not answer a ping within `timeoutMs`, or undefined when it does. */
export async function engineUnreachable(
  docker: Docker,
  timeoutMs = TIMEOUT_MS.engineReachable,
): Promise<string | undefined> {
  try {
    await withDeadline(docker.ping(), timeoutMs, `no answer to a ping within ${timeoutMs / 1000}s`);
    return undefined;
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { address?: string };
    return [e.code, e.message.split("\n")[0]].filter(Boolean).join(" ");
  }
}

/**
 * Runs a command in a container and collects its output. The command is wrapped in
 * coreutils `timeout` so a wedged process is killed inside the container, and the
 * caller is released at the deadline even if the engine never answers.
 */
export async function execIn(
  container: Docker.Container,
  cmd: string[],
  options: { timeoutMs: number; env?: string[] },
): Promise<ExecResult> {
  const started = performance.now();
  const seconds = Math.max(1, Math.ceil(options.timeoutMs / 1000));
  const exec = await container.exec({
    Cmd: ["timeout", "-k", "2", String(seconds), ...cmd],
    AttachStdout: true,
    AttachStderr: true,
    Env: options.env,
  });
  const stream = await exec.start({ hijack: true, stdin: false });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const stdout = new PassThrough().on("data", (b: Buffer) => out.push(b));
  const stderr = new PassThrough().on("data", (b: Buffer) => err.push(b));
  container.modem.demuxStream(stream, stdout, stderr);
  const ended = new Promise<void>((resolve, reject) => {
    stream.on("end", resolve);
    stream.on("close", resolve);
    stream.on("error", reject);
  });
  await withDeadline(
    ended,
    options.timeoutMs + TIMEOUT_MS.engineExecSlack,
    `exec '${cmd.join(" ")}' did not finish within ${seconds + 5}s`,
  ).finally(() => stream.destroy());
  const info = await exec.inspect();
  return {
    exitCode: info.ExitCode ?? -1,
    stdout: Buffer.concat(out).toString("utf8"),
    stderr: Buffer.concat(err).toString("utf8"),
    ms: Math.round(performance.now() - started),
  };
}

export class DeadlineError extends Error {}

export async function withDeadline<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(message)), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
