import { existsSync } from "node:fs";
import { cpus, release, totalmem } from "node:os";
import type Docker from "dockerode";
import type { MachineFacts } from "../results/machine.js";

/** cgroup v2 mounts one unified hierarchy whose root lists its controllers. */
const cgroupVersion = (): MachineFacts["cgroup"] => (existsSync("/sys/fs/cgroup/cgroup.controllers") ? "v2" : "v1");

export async function machineFacts(docker: Docker): Promise<MachineFacts> {
  return {
    kernel: release(),
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    cgroup: cgroupVersion(),
    outerEngine: (await outerEngineVersion(docker)) ?? "unknown",
  };
}

/** The engine fwcompat talks to, in words ("Docker 28.0.4 (API 1.48)"); undefined when it does not answer. */
export async function outerEngineVersion(docker: Docker): Promise<string | undefined> {
  const version = await docker.version().catch(() => undefined);
  return version && engineVersionLine(version);
}

/** Podman answers Docker's API too: its components say which engine it is. */
export function engineVersionLine(version: {
  Version: string;
  ApiVersion: string;
  Components?: ReadonlyArray<{ Name: string }>;
}): string {
  const name = version.Components?.some((c) => /podman/i.test(c.Name)) ? "Podman" : "Docker";
  return `${name} ${version.Version} (API ${version.ApiVersion})`;
}
