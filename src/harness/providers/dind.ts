import { randomBytes } from "node:crypto";
import type Docker from "dockerode";
import { execIn } from "../engine.js";
import type { Host, HostProvider, HostSpec, Peer } from "../host.js";
import { DindContainer, fwcompatLabels } from "./dind-container.js";

const DEFAULT_EXEC_TIMEOUT_MS = 60_000;

/** Docker-in-Docker hosts: one DindContainer per host on a network of the run's own. */
export class DindProvider implements HostProvider {
  readonly name = "dind" as const;
  private network: Promise<Docker.Network> | undefined;
  private peerContainer: Promise<Docker.Container> | undefined;
  /** ids of hosts created and not yet removed, including those still starting */
  private readonly hosts = new Set<string>();
  private closed = false;

  constructor(
    private readonly docker: Docker,
    private readonly runId: string,
    private readonly peerImage: string,
  ) {}

  private ensureNetwork(): Promise<Docker.Network> {
    // No fixed subnet: the engine picks a free one, so concurrent runs never collide.
    this.network ??= this.docker.createNetwork({ Name: `fwc-${this.runId}`, Driver: "bridge", Labels: fwcompatLabels(this.runId, "network"), CheckDuplicate: true });
    return this.network;
  }

  async start(spec: HostSpec): Promise<Host> {
    if (this.closed) throw new Error("the run is shutting down");
    const network = await this.ensureNetwork();
    const name = `fwc-${this.runId}-${spec.label.replace(/[^a-zA-Z0-9_.-]/g, "_").slice(0, 60)}-${randomBytes(3).toString("hex")}`;
    let id: string | undefined;
    try {
      // fwcompat's labels and sweeps clean up; the testcontainers reaper is not used.
      const started = await new DindContainer(spec.image)
        .withRunId(this.runId)
        .withName(name)
        .withNetworkMode(network.id)
        .withAutoCleanup(false)
        .onCreated((created) => {
          id = created;
          this.hosts.add(created);
          // close() may have run while the engine was creating this container.
          if (this.closed) throw new Error("the run is shutting down");
        })
        .start();
      return started.hostRemovedBy(() => this.removeHost(started.getId()));
    } catch (error) {
      if (id) await this.removeHost(id);
      throw error;
    }
  }

  private async removeHost(id: string): Promise<void> {
    this.hosts.delete(id);
    await this.docker.getContainer(id).remove({ force: true, v: true }).catch(() => {});
  }

  async peer(): Promise<Peer> {
    this.peerContainer ??= (async () => {
      const network = await this.ensureNetwork();
      const container = await this.docker.createContainer({
        name: `fwc-${this.runId}-peer`,
        Image: this.peerImage,
        Labels: fwcompatLabels(this.runId, "peer"),
        Cmd: ["tini", "--", "sleep", "infinity"],
        HostConfig: { NetworkMode: network.id },
      });
      await container.start();
      return container;
    })();
    const container = await this.peerContainer;
    return { sh: (script, timeoutMs = DEFAULT_EXEC_TIMEOUT_MS) => execIn(container, ["sh", "-c", script], { timeoutMs }) };
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.hosts].map((id) => this.removeHost(id)));
    const peer = await this.peerContainer?.catch(() => undefined);
    await peer?.remove({ force: true }).catch(() => {});
    const network = await this.network?.catch(() => undefined);
    await network?.remove().catch(() => {});
  }
}
