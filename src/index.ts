/**
 * fwcompat as a library: disposable Docker-in-Docker hosts with a chosen engine and iptables
 * build, as testcontainers containers, for tests of your own.
 */
export { DindContainer, StartedDindContainer, type DindChoice, type ProbeVantage } from "./library/dind-container.js";
export type { ProbeResult, Outcome } from "./assertions/probe.js";
export type { ExecResult } from "./contract/exec.js";
