import type { ExecResult } from "../contract/exec.js";

/** A disposable Linux host with its own network namespace, iptables and Docker engine. */
export interface Host {
  readonly name: string;
  readonly provider: "dind" | "vagrant";
  /** the host's address on the run's outer network, as the external peer sees it */
  readonly address: string;
  /** how the host was started (e.g. privileged, or the capability fallback) */
  readonly mode: string;
  /**
   * How many times slower than native the host runs (a VM under software emulation); its
   * probes' timeouts are multiplied by it. Absent: native speed.
   */
  readonly slowdown?: number;
  /** a shell script run with `sh -c` inside the host */
  sh(script: string, timeoutMs?: number): Promise<ExecResult>;
  dispose(): Promise<void>;
}

/** The client from another machine: runs commands on the run's outer network, outside every host. */
export interface Peer {
  sh(script: string, timeoutMs?: number): Promise<ExecResult>;
}

export interface HostSpec {
  image: string;
  /** human-readable part of the host's name; made unique by the provider */
  label: string;
}

export interface HostProvider {
  readonly name: "dind" | "vagrant";
  start(spec: HostSpec): Promise<Host>;
  /** the external vantage point shared by the run's hosts */
  peer(): Promise<Peer>;
  /** removes everything this provider created in this run */
  close(): Promise<void>;
}
