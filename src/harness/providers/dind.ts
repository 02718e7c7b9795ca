import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type Docker from "dockerode";
import { capabilitiesTheEngineLacks } from "../capabilities.js";
import type { ExecResult } from "../../contract/exec.js";
import { HOST_PATHS, HOSTD_READY } from "../../contract/host-contract.js";
import { execIn, HOSTNAME_LABEL, PID_LABEL, ROLE_LABEL, RUN_LABEL, withDeadline } from "../engine.js";
import type { Host, HostProvider, HostSpec, Peer } from "../host.js";

const DEFAULT_EXEC_TIMEOUT_MS = 60_000;
const HOST_READY_TIMEOUT_MS = 20_000;

/** Docker-in-Docker hosts: one container per host on a network of the run's own. */
export class DindProvider implements HostProvider {
  readonly name = "dind" as const;
  private network: Promise<Docker.Network> | undefined;
  private peerContainer: Promise<Docker.Container> | undefined;
  private readonly hosts = new Set<Docker.Container>();
  private closed = false;

  constructor(
    private readonly docker: Docker,
    private readonly runId: string,
    private readonly peerImage: string,
  ) {}

  private labels(role: string): Record<string, string> {
    return { [RUN_LABEL]: this.runId, [PID_LABEL]: String(process.pid), [HOSTNAME_LABEL]: hostname(), [ROLE_LABEL]: role };
  }

  private ensureNetwork(): Promise<Docker.Network> {
    // No fixed subnet: the engine picks a free one, so concurrent runs never collide.
    this.network ??= this.docker.createNetwork({ Name: `fwc-${this.runId}`, Driver: "bridge", Labels: this.labels("network"), CheckDuplicate: true });
    return this.network;
  }

  async start(spec: HostSpec): Promise<Host> {
    if (this.closed) throw new Error("the run is shutting down");
    const network = await this.ensureNetwork();
    const lacking = await capabilitiesTheEngineLacks();
    const privileged = lacking.length === 0;
    const name = `fwc-${this.runId}-${spec.label.replace(/[^a-zA-Z0-9_.-]/g, "_").slice(0, 60)}-${randomBytes(3).toString("hex")}`;
    const container = await this.docker.createContainer({
      name,
      Image: spec.image,
      Labels: this.labels("host"),
      Hostname: "fwc-host",
      HostConfig: {
        NetworkMode: network.id,
        CgroupnsMode: "private",
        Tmpfs: { "/var/lib/docker": "rw,exec", "/run": "rw,exec" },
        ...(privileged
          ? { Privileged: true }
          : {
              // The sandbox refuses --privileged; grant everything it can instead.
              CapAdd: ["ALL"],
              CapDrop: lacking,
              SecurityOpt: ["seccomp=unconfined", "apparmor=unconfined"],
              // what the CLI's systempaths=unconfined means: /proc/sys and friends writable
              MaskedPaths: [],
              ReadonlyPaths: [],
              DeviceCgroupRules: ["a *:* rwm"],
            }),
      },
      // CgroupnsMode and DeviceCgroupRules are engine API fields @types/dockerode does not list.
    } as unknown as Docker.ContainerCreateOptions);
    this.hosts.add(container);
    try {
      // close() may have run while the engine was creating this container.
      if (this.closed) throw new Error("the run is shutting down");
      await container.start();
      await waitForHostd(container);
      const info = await container.inspect();
      const address = Object.values(info.NetworkSettings.Networks)[0]?.IPAddress;
      if (!address) throw new Error("host has no address on the run network");
      const mode = privileged ? "privileged" : `capabilities: ALL minus ${lacking.join(",")}`;
      return new DindHost(container, name, address, mode, () => this.removeHost(container));
    } catch (error) {
      await this.removeHost(container);
      throw error;
    }
  }

  private async removeHost(container: Docker.Container): Promise<void> {
    this.hosts.delete(container);
    await container.remove({ force: true, v: true }).catch(() => {});
  }

  async peer(): Promise<Peer> {
    this.peerContainer ??= (async () => {
      const network = await this.ensureNetwork();
      const container = await this.docker.createContainer({
        name: `fwc-${this.runId}-peer`,
        Image: this.peerImage,
        Labels: this.labels("peer"),
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
    await Promise.all([...this.hosts].map((host) => this.removeHost(host)));
    const peer = await this.peerContainer?.catch(() => undefined);
    await peer?.remove({ force: true }).catch(() => {});
    const network = await this.network?.catch(() => undefined);
    await network?.remove().catch(() => {});
  }
}

class DindHost implements Host {
  readonly provider = "dind" as const;
  constructor(
    private readonly container: Docker.Container,
    readonly name: string,
    readonly address: string,
    readonly mode: string,
    private readonly remove: () => Promise<void>,
  ) {}

  sh(script: string, timeoutMs = DEFAULT_EXEC_TIMEOUT_MS): Promise<ExecResult> {
    return execIn(this.container, ["sh", "-c", script], { timeoutMs });
  }

  dispose(): Promise<void> {
    return this.remove();
  }
}

async function waitForHostd(container: Docker.Container): Promise<void> {
  const poll = async () => {
    for (;;) {
      const result = await execIn(container, ["cat", HOST_PATHS.hostdReady], { timeoutMs: 5000 }).catch(() => undefined);
      if (result?.stdout.trim() === HOSTD_READY) return;
      const state = await container.inspect();
      if (!state.State.Running) throw new Error(`host exited during start (exit ${state.State.ExitCode})`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };
  await withDeadline(poll(), HOST_READY_TIMEOUT_MS, `host not ready within ${HOST_READY_TIMEOUT_MS / 1000}s`);
}
