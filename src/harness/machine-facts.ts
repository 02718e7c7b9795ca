import { existsSync } from "node:fs";
import { cpus, release, totalmem } from "node:os";
import type Docker from "dockerode";
import type { MachineFacts } from "../results/machine.js";

/** cgroup v2 mounts one unified hierarchy whose root lists its controllers. */
const cgroupVersion = (): MachineFacts["cgroup"] => (existsSync("/sys/fs/cgroup/cgroup.controllers") ? "v2" : "v1");

export async function machineFacts(docker: Docker): Promise<MachineFacts> {
  const version = await docker.version().catch(() => undefined);
  return {
    kernel: release(),
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    cgroup: cgroupVersion(),
    outerEngine: version ? `${version.Version} (API ${version.ApiVersion})` : "unknown",
  };
}
