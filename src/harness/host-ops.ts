import type { Host } from "./host.js";
import type { ExecResult } from "../contract/exec.js";
import {
  buildBinDir,
  dockerdCommand,
  ENGINE_BUILD_DIR,
  ENGINE_PROVENANCE_KEYS,
  HOST_PATHS,
  HOST_TOOLS,
  NFT_BINARY,
  parseKeyValueLines,
  selectIptablesCommand,
} from "../contract/host-contract.js";

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
  if (result.exitCode !== 0) throw stepFailure(name, result);
  return result;
}

const stepFailure = (name: string, result: ExecResult) => new Error(`${name} failed (exit ${result.exitCode}): ${(result.stderr || result.stdout).trim().slice(-400)}`);

/**
 * The engine refused what the cell asked of it: dockerd would not start under the cell's
 * daemon.json, or a network or published container of the healthy deployment could not
 * be created. That is a result (with the engine's own words), never a harness failure.
 */
export class EngineRefusal extends Error {
  constructor(
    readonly step: string,
    readonly detail: string,
  ) {
    super(`${step}: ${detail}`);
  }
}

/**
 * What a failed engine command says about why: dockerd's own closing line (`failed to start
 * daemon: …`), else the error or message of its fatal log line, else the last line.
 */
export function refusalDetail(output: string): string {
  const lines = output.split("\n").map((l) => l.trim()).filter(Boolean);
  const plain = lines.find((l) => /^(failed to start daemon|unable to configure the Docker daemon|Error response from daemon|docker: Error)/i.test(l));
  const logged = lines.find((l) => /level=fatal|failed to start daemon|unable to configure the Docker daemon/i.test(l));
  const field = (name: string) => (logged ? new RegExp(`${name}="((?:[^"\\\\]|\\\\.)*)"`).exec(logged)?.[1]?.replace(/\\"/g, '"') : undefined);
  return (plain ?? field("error") ?? field("msg") ?? logged ?? lines.at(-1) ?? "(no output)").slice(0, 600);
}

/** dockerd rejecting daemon.json itself: the matrix asked for an option this engine has no setting for. */
const INVALID_DAEMON_JSON = /unable to configure the Docker daemon with file|don't match any configuration option/;
/** The engine's own refusal: dockerd giving up at start, or the daemon answering an API call with an error. */
const ENGINE_SAID_NO = /failed to start daemon|Error starting daemon|Error response from daemon/;

/**
 * Like mustStep, but a non-zero exit the engine itself explains (dockerd would not start,
 * the daemon answered with an error) is an EngineRefusal: the cell's result. A daemon.json
 * the engine cannot read, or a failure the engine does not explain, stays a harness error.
 */
export async function engineStep(host: Host, steps: Step[], name: string, script: string, timeoutMs?: number): Promise<ExecResult> {
  const result = await runStep(host, steps, name, script, timeoutMs);
  if (result.exitCode === 0) return result;
  const output = `${result.stdout}\n${result.stderr}`;
  if (INVALID_DAEMON_JSON.test(output) || !ENGINE_SAID_NO.test(output)) throw stepFailure(name, result);
  throw new EngineRefusal(name, refusalDetail(output));
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
 * A dockerd that will not start under these settings throws an EngineRefusal.
 */
export async function startInnerEngine(host: Host, steps: Step[], options: InnerEngineOptions): Promise<{ atStart: number; afterDockerd: number }> {
  await mustStep(host, steps, "select iptables", selectIptablesCommand({ name: options.build }, options.backend));
  await writeDaemonJson(host, steps, options.daemonOptions);
  await mustStep(host, steps, "set ip_forward", `sysctl -qw net.ipv4.ip_forward=${options.ipForwardAtStart}`);
  const atStart = await readIpForward(host);
  await engineStep(host, steps, "start dockerd", dockerdCommand("start"), 60_000);
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

/** `nft list ruleset` where the host has nftables, read past the tracing shim. */
export async function nftRuleset(host: Host): Promise<string | undefined> {
  const result = await host.sh(`[ -x ${NFT_BINARY} ] || exit 3; ${NFT_BINARY} list ruleset 2>&1`, 20_000);
  return result.exitCode === 3 ? undefined : result.stdout;
}

/** Tag, commit and Go of an engine compiled from source (its build's provenance file); undefined for packaged engines. */
export async function engineBuildFacts(host: Host): Promise<Record<(typeof ENGINE_PROVENANCE_KEYS)[number], string> | undefined> {
  const result = await host.sh(`cat ${ENGINE_BUILD_DIR}/provenance 2>/dev/null`, 10_000);
  return result.exitCode === 0 && result.stdout.trim() ? parseKeyValueLines(result.stdout, ENGINE_PROVENANCE_KEYS) : undefined;
}

/** The firewall backend dockerd reports in force (`docker info` FirewallBackend.Driver, API 1.49+); undefined before that. */
export async function firewallBackendInForce(host: Host): Promise<string | undefined> {
  const result = await host.sh("docker info --format '{{json .}}' 2>/dev/null", 20_000);
  try {
    const driver = (JSON.parse(result.stdout) as { FirewallBackend?: { Driver?: unknown } }).FirewallBackend?.Driver;
    return typeof driver === "string" && driver ? driver : undefined;
  } catch {
    return undefined;
  }
}

/** Each running container's address now, by name: a dockerd restart may hand the addresses out anew. */
export async function containerAddresses(host: Host, names: readonly string[]): Promise<Map<string, string>> {
  if (names.length === 0) return new Map();
  const format = "{{.Name}} {{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}";
  const result = await host.sh(`docker inspect -f '${format}' ${names.join(" ")} 2>/dev/null`, 20_000);
  return new Map(
    result.stdout
      .split("\n")
      .map((line) => line.trim().replace(/^\//, "").split(" "))
      .flatMap(([name, ip]) => (name && ip ? [[name, ip] as const] : [])),
  );
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
