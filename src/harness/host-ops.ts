import type { Host } from "./host.js";
import type { ExecResult } from "../contract/exec.js";
import { buildBinDir, dockerdCommand, HOST_PATHS, HOST_TOOLS, selectIptablesCommand } from "../contract/host-contract.js";

/** One command run inside a host as part of a scenario, kept as evidence. */
export interface Step {
  name: string;
  /** epoch milliseconds; the host shares this machine's clock, so trace calls can be placed in a step */
  startedAtMs: number;
  command: string;
  exitCode: number;
  stdout: string;
  stderr: string;
  ms: number;
}

const trim = (text: string, max = 4000) => (text.length > max ? `${text.slice(0, max)}…[${text.length - max} more]` : text);

export async function runStep(host: Host, steps: Step[], name: string, script: string, timeoutMs?: number): Promise<ExecResult> {
  const startedAtMs = Date.now();
  const result = await host.sh(script, timeoutMs);
  steps.push({ name, startedAtMs, command: script, exitCode: result.exitCode, stdout: trim(result.stdout), stderr: trim(result.stderr), ms: result.ms });
  return result;
}

/** Like runStep, but a non-zero exit is a harness failure (the step was meant to set the stage, not to be observed). */
export async function mustStep(host: Host, steps: Step[], name: string, script: string, timeoutMs?: number): Promise<ExecResult> {
  const result = await runStep(host, steps, name, script, timeoutMs);
  if (result.exitCode !== 0) throw new Error(`${name} failed (exit ${result.exitCode}): ${(result.stderr || result.stdout).trim().slice(-400)}`);
  return result;
}

/** Address space for the inner engine that cannot overlap the outer run network. */
export const INNER_ADDRESSES = {
  bip: "10.77.0.1/24",
  "default-address-pools": [{ base: "10.78.0.0/16", size: 24 }],
};

export function daemonJson(options: Record<string, unknown>): string {
  return JSON.stringify({ ...INNER_ADDRESSES, ...options }, null, 2);
}

export const shellQuote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

export async function writeDaemonJson(host: Host, steps: Step[], options: Record<string, unknown>): Promise<void> {
  await mustStep(host, steps, "write daemon.json", `printf '%s\\n' ${shellQuote(daemonJson(options))} > /etc/docker/daemon.json`);
}

export interface InnerEngineOptions {
  /** iptables build name (its directory under /opt/fwcompat/iptables) */
  build: string;
  backend: "nft" | "legacy";
  daemonOptions: Record<string, unknown>;
  /** net.ipv4.ip_forward when dockerd starts: it decides the FORWARD policy dockerd sets */
  ipForwardAtStart: number;
}

/**
 * Puts the build first on dockerd's PATH, writes daemon.json, sets forwarding, starts the
 * host's dockerd and imports the workload image; returns ip_forward before and after dockerd started.
 */
export async function startInnerEngine(host: Host, steps: Step[], options: InnerEngineOptions): Promise<{ atStart: number; afterDockerd: number }> {
  await mustStep(host, steps, "select iptables", selectIptablesCommand({ name: options.build }, options.backend));
  await writeDaemonJson(host, steps, options.daemonOptions);
  await mustStep(host, steps, "set ip_forward", `sysctl -qw net.ipv4.ip_forward=${options.ipForwardAtStart}`);
  const atStart = await readIpForward(host);
  await mustStep(host, steps, "start dockerd", dockerdCommand("start"), 60_000);
  const afterDockerd = await readIpForward(host);
  await mustStep(host, steps, "import workload image", HOST_TOOLS.workloadImage);
  return { atStart, afterDockerd };
}

export async function iptablesSave(host: Host): Promise<string> {
  const result = await host.sh("iptables-save 2>&1", 20_000);
  return result.stdout;
}

/** The other backend's rules, when it has any: after a backend switch, the old rules still filter packets. */
export async function otherBackendRules(host: Host, build: { name: string }, backend: "nft" | "legacy"): Promise<string | undefined> {
  const other = backend === "nft" ? "legacy" : "nft";
  const result = await host.sh(`${buildBinDir(build, other)}/iptables-save 2>/dev/null`, 20_000);
  return /^-A /m.test(result.stdout) ? result.stdout : undefined;
}

/** The shim's record of every iptables call made on the host so far. */
export async function iptablesTrace(host: Host): Promise<string> {
  const result = await host.sh(`cat ${HOST_PATHS.iptablesTrace} 2>/dev/null`, 20_000);
  return result.stdout;
}

export async function dockerdLogTail(host: Host, lines = 60): Promise<string> {
  const result = await host.sh(`tail -n ${lines} ${HOST_PATHS.dockerdLog} 2>/dev/null`, 10_000);
  return result.stdout;
}

export async function readIpForward(host: Host): Promise<number> {
  const result = await host.sh("cat /proc/sys/net/ipv4/ip_forward", 5000);
  return Number(result.stdout.trim());
}

/** Whether bridged packets pass iptables in this host: "1", "0", or "absent" when br_netfilter is not loaded. */
export async function bridgeNfCallIptables(host: Host): Promise<string> {
  const result = await host.sh("cat /proc/sys/net/bridge/bridge-nf-call-iptables 2>/dev/null || echo absent", 5000);
  return result.stdout.trim();
}
