import { hostname } from "node:os";
import type Docker from "dockerode";
import { HOSTNAME_LABEL, PID_LABEL, RUN_LABEL } from "./engine.js";
import { processAlive } from "./process-alive.js";

export interface SweepCount {
  containers: number;
  networks: number;
  volumes: number;
}

/**
 * Removes fwcompat's containers, networks and volumes: those of `runId`, or (without it)
 * those whose creating process on this machine is gone, i.e. left by a killed run.
 */
export async function sweep(docker: Docker, runId?: string): Promise<SweepCount> {
  const filters = JSON.stringify({ label: [runId ? `${RUN_LABEL}=${runId}` : RUN_LABEL] });
  const orphaned = (labels: Record<string, string> | undefined) => {
    if (!labels) return false;
    if (runId) return true;
    if (labels[HOSTNAME_LABEL] !== hostname()) return false;
    const pid = Number(labels[PID_LABEL]);
    return !Number.isInteger(pid) || pid === process.pid ? false : !processAlive(pid);
  };
  const count: SweepCount = { containers: 0, networks: 0, volumes: 0 };
  const containers = await docker.listContainers({ all: true, filters });
  await Promise.all(
    containers
      .filter((c) => orphaned(c.Labels))
      .map(async (c) => {
        await docker
          .getContainer(c.Id)
          .remove({ force: true, v: true })
          .catch(() => {});
        count.containers++;
      }),
  );
  for (const network of await docker.listNetworks({ filters })) {
    if (!orphaned(network.Labels)) continue;
    await docker
      .getNetwork(network.Id)
      .remove()
      .catch(() => {});
    count.networks++;
  }
  const { Volumes } = await docker.listVolumes({ filters });
  for (const volume of Volumes ?? []) {
    if (!orphaned(volume.Labels ?? undefined)) continue;
    await docker
      .getVolume(volume.Name)
      .remove()
      .catch(() => {});
    count.volumes++;
  }
  return count;
}
