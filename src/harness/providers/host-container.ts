import { hostname } from "node:os";
import type Docker from "dockerode";
import type { ExecResult } from "../../contract/exec.js";
import { HOST_FILES } from "../../contract/host-commands.js";
import { HOST_PATHS, HOSTD_READY } from "../../contract/host-contract.js";
import { capabilitiesTheEngineLacks } from "../capabilities.js";
import { execIn, HOSTNAME_LABEL, PID_LABEL, ROLE_LABEL, RUN_LABEL, withDeadline } from "../engine.js";
import type { Host } from "../host.js";
import { TIMEOUT_MS } from "../../contract/timeouts.js";
import { CAPABILITY_FALLBACK_PREFIX, PRIVILEGED_MODE } from "../../results/host-environment.js";

/**
 * What every disposable Docker-in-Docker host is given, whoever starts it (fwcompat's runs
 * through dockerode, DindContainer through testcontainers): privileged where the engine allows
 * it; otherwise every capability the bounding set has, unconfined seccomp/AppArmor, writable
 * /proc/sys and a device cgroup rule. Always a private cgroup namespace (fwcompat-hostd
 * remounts cgroup v1 hierarchies inside, or delegates v2) and tmpfs for the inner engine.
 */
export const HOST_HOSTNAME = "fwc-host";
export const HOST_TMPFS = { [HOST_FILES.dockerDataDir]: "rw,exec", [HOST_FILES.runtimeDir]: "rw,exec" };
export const HOST_READY_TIMEOUT_MS = TIMEOUT_MS.hostReady;
export const DEFAULT_EXEC_TIMEOUT_MS = TIMEOUT_MS.hostExec;

export type HostPowers = { hostConfig: Docker.HostConfig; mode: string };

export async function hostPowers(): Promise<HostPowers> {
  return hostPowersGiven(await capabilitiesTheEngineLacks());
}

/**
 * Privileged when the engine lacks no capability, else the capability fallback. Both with a
 * private cgroup namespace, whatever the engine's default (cgroupns "host" on cgroup v1
 * engines and older daemons): fwcompat-hostd then sees its own cgroup as the root, moves
 * every process out of it and delegates the controllers there, never in the outer engine's tree.
 */
export function hostPowersGiven(lacking: readonly string[]): HostPowers {
  // CgroupnsMode is an engine API field that @types/dockerode does not list.
  const cgroupns = { CgroupnsMode: "private" } as Docker.HostConfig;
  if (lacking.length === 0) return { hostConfig: { ...cgroupns, Privileged: true }, mode: PRIVILEGED_MODE };
  return {
    hostConfig: {
      ...cgroupns,
      CapAdd: ["ALL"],
      CapDrop: [...lacking],
      SecurityOpt: ["seccomp=unconfined", "apparmor=unconfined"],
      // what the CLI's systempaths=unconfined means: /proc/sys and friends writable
      MaskedPaths: [],
      ReadonlyPaths: [],
      DeviceCgroupRules: ["a *:* rwm"],
    } as Docker.HostConfig,
    mode: `${CAPABILITY_FALLBACK_PREFIX}ALL minus ${lacking.join(",")}`,
  };
}

/** Labels every container fwcompat creates: a sweep (`fwcompat clean`) finds them when their process is gone. */
export function fwcompatLabels(runId: string, role: string): Record<string, string> {
  return { [RUN_LABEL]: runId, [PID_LABEL]: String(process.pid), [HOSTNAME_LABEL]: hostname(), [ROLE_LABEL]: role };
}

/** Waits inside the host, checking every 10 ms for up to 2 s: one call instead of a call per check. */
const AWAIT_HOSTD = `i=0; while [ $i -lt 200 ]; do [ "$(cat ${HOST_PATHS.hostdReady} 2>/dev/null)" = ${HOSTD_READY} ] && exit 0; sleep 0.01; i=$((i + 1)); done; exit 1`;

/** Until the host's init (fwcompat-hostd) has prepared cgroups; a host that exits meanwhile fails at once with its exit code. */
export async function waitForHostd(container: Docker.Container, timeoutMs = HOST_READY_TIMEOUT_MS): Promise<void> {
  const poll = async () => {
    for (;;) {
      const result = await execIn(container, ["sh", "-c", AWAIT_HOSTD], { timeoutMs: TIMEOUT_MS.hostReadyPoll }).catch(
        () => undefined,
      );
      if (result?.exitCode === 0) return;
      const state = await container.inspect();
      if (!state.State.Running)
        throw new Error(`host exited during start (exit ${state.State.ExitCode})${await lastWords(container)}`);
    }
  };
  await withDeadline(poll(), timeoutMs, `host not ready within ${timeoutMs / 1000}s`);
}

/** The end of what a host that exited printed (fwcompat-hostd says why it gave up), after ": "; empty if nothing. */
async function lastWords(container: Docker.Container): Promise<string> {
  const raw = await container.logs({ stdout: true, stderr: true, tail: 3, follow: false }).catch(() => undefined);
  const text = raw
    ? logFramesText(raw)
        .trim()
        .replace(/\s*\n\s*/g, " | ")
    : "";
  return text ? `: ${text}` : "";
}

/**
 * A container's log without a TTY, as the engine sends it: frames of an 8-byte header (stream,
 * three zero bytes, big-endian length) and that many bytes. Text without such headers is kept as it is.
 */
export function logFramesText(raw: Buffer): string {
  const parts: Buffer[] = [];
  let at = 0;
  while (at + 8 <= raw.length) {
    const stream = raw[at];
    const length = raw.readUInt32BE(at + 4);
    const framed = (stream === 1 || stream === 2) && raw[at + 1] === 0 && raw[at + 2] === 0 && raw[at + 3] === 0;
    if (!framed || at + 8 + length > raw.length) return raw.toString("utf8");
    parts.push(raw.subarray(at + 8, at + 8 + length));
    at += 8 + length;
  }
  return at === raw.length ? Buffer.concat(parts).toString("utf8") : raw.toString("utf8");
}

/** A running host container behind fwcompat's Host interface: exec through the engine, bounded in time. */
export class ContainerHost implements Host {
  readonly provider = "dind" as const;

  constructor(
    private readonly container: Docker.Container,
    readonly name: string,
    readonly address: string,
    readonly mode: string,
    private readonly remove: () => Promise<void>,
  ) {}

  exec(cmd: string[], timeoutMs = DEFAULT_EXEC_TIMEOUT_MS): Promise<ExecResult> {
    return execIn(this.container, cmd, { timeoutMs });
  }

  sh(script: string, timeoutMs = DEFAULT_EXEC_TIMEOUT_MS): Promise<ExecResult> {
    return this.exec(["sh", "-c", script], timeoutMs);
  }

  dispose(): Promise<void> {
    return this.remove();
  }
}
