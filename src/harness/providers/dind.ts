import { randomBytes } from "node:crypto";
import type Docker from "dockerode";
import { execIn } from "../engine.js";
import type { Host, HostProvider, HostSpec, Peer } from "../host.js";
import {
  ContainerHost,
  fwcompatLabels,
  HOST_HOSTNAME,
  HOST_TMPFS,
  hostPowers,
  waitForHostd,
} from "./host-container.js";
import { TIMEOUT_MS } from "../../contract/timeouts.js";

const DEFAULT_EXEC_TIMEOUT_MS = TIMEOUT_MS.hostExec;

/**
 * Docker-in-Docker hosts on a network of the run's own, created through dockerode with the
 * same settings DindContainer gives testcontainers (host-container.ts): the run path does not
 * load testcontainers (about 260 ms of start-up) nor pay its per-container checks.
 */
export class DindProvider implements HostProvider {
  readonly name = "dind" as const;
  private network: Promise<Docker.Network> | undefined;
  private peerContainer: Promise<Docker.Container> | undefined;
  /** ids of hosts created and not yet removed, including those still starting */
  private readonly hosts = new Set<string>();
  /** removals started and not yet finished */
  private readonly removals = new Set<Promise<void>>();
  private closed = false;
  private powers: ReturnType<typeof hostPowers> | undefined;

  constructor(
    private readonly docker: Docker,
    private readonly runId: string,
    private readonly peerImage: string,
  ) {}

  private ensureNetwork(): Promise<Docker.Network> {
    // No fixed subnet: the engine picks a free one, so concurrent runs never collide. Internal:
    // the hosts and the peer reach each other and nothing else, and the engine sets up (and
    // later removes) fewer rules for it.
    this.network ??= this.docker.createNetwork({
      Name: `fwc-${this.runId}`,
      Driver: "bridge",
      Internal: true,
      Labels: fwcompatLabels(this.runId, "network"),
      CheckDuplicate: true,
    });
    return this.network;
  }

  async start(spec: HostSpec): Promise<Host> {
    if (this.closed) throw new Error("the run is shutting down");
    const network = await this.ensureNetwork();
    const name = `fwc-${this.runId}-${spec.label.replace(/[^a-zA-Z0-9_.-]/g, "_").slice(0, 60)}-${randomBytes(3).toString("hex")}`;
    const { hostConfig, mode } = await (this.powers ??= hostPowers());
    const container = await this.docker.createContainer({
      name,
      Image: spec.image,
      Hostname: HOST_HOSTNAME,
      Labels: fwcompatLabels(this.runId, "host"),
      HostConfig: { ...hostConfig, NetworkMode: network.id, Tmpfs: HOST_TMPFS },
    });
    this.hosts.add(container.id);
    try {
      // close() may have run while the engine was creating this container.
      if (this.closed) throw new Error("the run is shutting down");
      await container.start();
      await waitForHostd(container);
      const info = await container.inspect();
      const address = Object.values(info.NetworkSettings.Networks)[0]?.IPAddress;
      if (!address) throw new Error("host has no address on its network");
      return new ContainerHost(container, name, address, mode, () => this.removeHost(container.id));
    } catch (error) {
      await this.removeHost(container.id);
      throw error;
    }
  }

  /**
   * Starts removing a host and returns: its attempt is finished, and its slot goes to the next
   * attempt while the engine removes it. close() waits for every removal.
   */
  private async removeHost(id: string): Promise<void> {
    if (!this.hosts.delete(id)) return;
    const removal = this.docker
      .getContainer(id)
      .remove({ force: true, v: true })
      .catch(() => {});
    this.removals.add(removal);
    void removal.finally(() => this.removals.delete(removal));
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
    return {
      sh: (script, timeoutMs = DEFAULT_EXEC_TIMEOUT_MS) => execIn(container, ["sh", "-c", script], { timeoutMs }),
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.hosts].map((id) => this.removeHost(id)));
    const peer = await this.peerContainer?.catch(() => undefined);
    await Promise.all([...this.removals, peer?.remove({ force: true }).catch(() => {})]);
    const network = await this.network?.catch(() => undefined);
    await network?.remove().catch(() => {});
  }
}
