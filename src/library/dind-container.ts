import { randomBytes } from "node:crypto";
import type Docker from "dockerode";
import {
  AbstractStartedContainer,
  GenericContainer,
  ImageName,
  type StartedTestContainer,
  type WaitStrategy,
} from "testcontainers";
import { curlCommand, parseProbeOutput, probeScript, type ProbeResult } from "../assertions/probe.js";
import type { ExecResult } from "../contract/exec.js";
import { connectEngine } from "../harness/engine.js";
import type { Host } from "../harness/host.js";
import {
  ContainerHost,
  DEFAULT_EXEC_TIMEOUT_MS,
  fwcompatLabels,
  HOST_HOSTNAME,
  HOST_READY_TIMEOUT_MS,
  HOST_TMPFS,
  hostPowers,
  waitForHostd,
} from "../harness/providers/host-container.js";
import { startInnerEngine, type Step } from "../harness/host-ops.js";
import { iptablesSave } from "../harness/host-reads.js";
import { hostImageFor } from "./host-image-for.js";
import { TIMEOUT_MS } from "../contract/timeouts.js";

let docker: Docker | undefined;
const engine = () => (docker ??= connectEngine());

/** What a user picks for a host: names from a matrix file (fwcompat's default matrix unless given). */
export interface DindChoice {
  /** engine name, e.g. docker-28.5.2 */
  engine: string;
  /** iptables build name, e.g. 1.8.11 */
  iptables: string;
  backend?: "nft" | "legacy";
  /** daemon.json options, e.g. { "userland-proxy": false } */
  daemon?: Record<string, unknown>;
  /** net.ipv4.ip_forward when dockerd starts (default 0, like a freshly booted host) */
  ipForwardAtStart?: 0 | 1;
  /** matrix file that declares the engine and the build (default: the one shipped with fwcompat) */
  matrix?: string;
  /** progress of image builds (they are cached: only a first start builds) */
  log?: (line: string) => void;
}

export type ProbeVantage = "localhost" | "host-ip" | "external";

/**
 * Ready when the host's init (fwcompat-hostd) has prepared cgroups for an inner engine; a
 * host that exits meanwhile fails at once with its exit code rather than at the deadline.
 */
class HostdReady implements WaitStrategy {
  private timeoutMs = HOST_READY_TIMEOUT_MS;
  private timeoutSet = false;

  async waitUntilReady(container: Docker.Container): Promise<void> {
    await waitForHostd(container, this.timeoutMs);
  }

  withStartupTimeout(ms: number): this {
    this.timeoutMs = ms;
    this.timeoutSet = true;
    return this;
  }

  isStartupTimeoutSet(): boolean {
    return this.timeoutSet;
  }

  getStartupTimeout(): number {
    return this.timeoutMs;
  }
}

/**
 * A disposable Docker-in-Docker host as a testcontainers container. Privileged where the
 * engine allows it; otherwise every capability the bounding set has, unconfined
 * seccomp/AppArmor, writable /proc/sys and a device cgroup rule. Always a private cgroup
 * namespace (fwcompat-hostd remounts cgroup v1 hierarchies inside, or delegates v2), and
 * fwcompat's labels, so sweeps clean up after a killed process even without the reaper.
 *
 * Given a host image it only starts the host (fwcompat's own runs start dockerd later);
 * given a DindChoice it builds or finds the host image and starts dockerd with that iptables
 * build, backend and daemon options before start() resolves.
 */
export class DindContainer extends GenericContainer {
  private readonly choice: DindChoice | undefined;
  private runId = `tc-${randomBytes(4).toString("hex")}`;
  private mode = "";
  private peerImage: string | undefined;
  private createdHook: ((id: string) => void) | undefined;

  constructor(imageOrChoice: string | DindChoice) {
    // The image of a choice is known only once it is built: start() puts it in place.
    super(typeof imageOrChoice === "string" ? imageOrChoice : "fwcompat/host:pending");
    this.choice = typeof imageOrChoice === "string" ? undefined : imageOrChoice;
    this.withHostname(HOST_HOSTNAME).withTmpFs(HOST_TMPFS).withWaitStrategy(new HostdReady());
  }

  /** The run the host belongs to (label io.fwcompat.run); a random one by default. */
  withRunId(runId: string): this {
    this.runId = runId;
    return this;
  }

  /** Called with the container id as soon as the engine created it, before it starts. */
  onCreated(hook: (id: string) => void): this {
    this.createdHook = hook;
    return this;
  }

  protected override async beforeContainerCreated(): Promise<void> {
    this.withLabels(fwcompatLabels(this.runId, "host"));
    const { hostConfig, mode } = await hostPowers();
    Object.assign(this.hostConfig, hostConfig);
    this.mode = mode;
  }

  protected override async containerCreated(containerId: string): Promise<void> {
    this.createdHook?.(containerId);
  }

  override async start(): Promise<StartedDindContainer> {
    if (this.choice) {
      const images = await hostImageFor(engine(), this.choice, this.choice.log ?? (() => {}));
      this.imageName = ImageName.fromString(images.hostImage);
      this.createOpts.Image = images.hostImage;
      this.peerImage = images.peerImage;
    }
    const started = new StartedDindContainer(await super.start(), this.mode, this.runId, this.peerImage);
    if (this.choice) {
      try {
        await started.startEngine(this.choice);
      } catch (error) {
        await started.stop({ timeout: 0 }).catch(() => {});
        throw error;
      }
    }
    return started;
  }
}

/** A running disposable host: exec, iptablesSave(), probe() from a vantage, stop(). */
export class StartedDindContainer extends AbstractStartedContainer {
  /** the host's address on its outer network, as an external client sees it */
  readonly address: string;
  /** every command fwcompat ran in the host (dockerd start and the like), with its output */
  readonly steps: Step[] = [];
  /** the host as fwcompat's providers and in-host operations see it */
  readonly host: Host;
  private peer: Promise<StartedTestContainer> | undefined;

  constructor(
    started: StartedTestContainer,
    /** privileged, or the capabilities it was given instead */
    readonly mode: string,
    private readonly runId: string,
    private readonly peerImage: string | undefined,
  ) {
    super(started);
    const address = started
      .getNetworkNames()
      .map((network) => started.getIpAddress(network))
      .find(Boolean);
    if (!address) throw new Error("host has no address on its network");
    this.address = address;
    const container = engine().getContainer(started.getId());
    this.host = new ContainerHost(container, started.getName().replace(/^\//, ""), this.address, mode, () =>
      container.remove({ force: true, v: true }).catch(() => {}),
    );
  }

  /** Runs a shell script in the host, bounded in time; output kept apart, with its duration. */
  sh(script: string, timeoutMs = DEFAULT_EXEC_TIMEOUT_MS): Promise<ExecResult> {
    return this.host.sh(script, timeoutMs);
  }

  /** The host's rule set as the selected iptables build prints it. */
  iptablesSave(): Promise<string> {
    return iptablesSave(this.host);
  }

  /**
   * An HTTP GET of a port the host publishes, from inside the host (`localhost`, `host-ip`)
   * or from a peer container on the host's network (`external`), bounded by timeoutMs.
   * With `expectAnswer`, an answer with another body counts as an error (the wrong container answered).
   */
  async probe(
    target: { port: number; path?: string; expectAnswer?: string },
    from: ProbeVantage = "external",
    timeoutMs = TIMEOUT_MS.probe,
  ): Promise<ProbeResult> {
    const address = from === "localhost" ? "127.0.0.1" : this.address;
    const spec = {
      vantage: from,
      target: `:${target.port}${target.path ?? "/"}`,
      command: (ms: number) => curlCommand(`http://${address}:${target.port}${target.path ?? "/"}`, ms),
      expectAnswer: target.expectAnswer,
      expect: "reachable" as const,
    };
    const script = probeScript([spec], timeoutMs);
    const run =
      from === "external"
        ? await (await this.ensurePeer()).exec(["sh", "-c", script])
        : await this.sh(script, timeoutMs + TIMEOUT_MS.probeExecSlack);
    const [result] = parseProbeOutput([spec], {
      exitCode: run.exitCode,
      stdout: run.stdout,
      stderr: run.stderr,
      ms: 0,
    });
    return result as ProbeResult;
  }

  /** Starts the host's dockerd with the chosen iptables build, backend and daemon options. */
  async startEngine(choice: DindChoice): Promise<void> {
    await startInnerEngine(this.host, this.steps, {
      build: choice.iptables,
      backend: choice.backend ?? "nft",
      daemonOptions: choice.daemon ?? {},
      ipForwardAtStart: choice.ipForwardAtStart ?? 0,
    });
  }

  private ensurePeer(): Promise<StartedTestContainer> {
    if (!this.peerImage) throw new Error("probe from 'external' needs a peer image: start the host from a DindChoice");
    const network = this.getNetworkNames()[0];
    this.peer ??= new GenericContainer(this.peerImage)
      .withCommand(["tini", "--", "sleep", "infinity"])
      .withLabels(fwcompatLabels(this.runId, "peer"))
      .withNetworkMode(network ?? "bridge")
      .start();
    return this.peer;
  }

  protected override async containerStopping(): Promise<void> {
    const peer = await this.peer?.catch(() => undefined);
    await peer?.stop({ timeout: 0 });
  }
}
