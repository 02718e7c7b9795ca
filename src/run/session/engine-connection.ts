import type Docker from "dockerode";
import { assertEngineReachable, connectEngine } from "../../harness/engine.js";
import { sweep } from "../../harness/sweep.js";
import { sweepVagrant } from "../../harness/providers/vagrant.js";

/** The engine a command drives: the connection is made here, so the CLI never reaches into the harness. */
export const openEngine = (): Docker => connectEngine();

/** What `fwcompat clean` removed: everything labelled by runs that were killed before their own cleanup. */
export interface Leftovers {
  containers: number;
  networks: number;
  volumes: number;
  vms: number;
}

export async function removeLeftovers(docker: Docker): Promise<Leftovers> {
  await assertEngineReachable(docker);
  const removed = await sweep(docker);
  return { ...removed, vms: await sweepVagrant() };
}
