import { randomBytes } from "node:crypto";
import type { Host } from "./host.js";
import type { ExecResult } from "../contract/exec.js";
import type { StepRecord } from "../results/schema.js";
import { parseStepBatch, stepBatchScript, type BatchStep, type BatchStepResult } from "../contract/step-batch.js";
import { dockerdCommand, HOST_TOOLS, selectIptablesCommand } from "../contract/host-contract.js";
import { HOST_FILES, readSysctl, setSysctl, SYSCTL } from "../contract/host-commands.js";
import { TIMEOUT_MS } from "../contract/timeouts.js";
import { kernelCapabilityScript, parseKernelCapability, type KernelCapability } from "../contract/kernel-capability.js";

/** One command run inside a host as part of a scenario, kept as evidence (its shape: the results schema). */
export type Step = StepRecord;

const trim = (text: string, max = 4000) =>
  text.length > max ? `${text.slice(0, max)}…[${text.length - max} more]` : text;

export async function runStep(
  host: Host,
  steps: Step[],
  name: string,
  script: string,
  timeoutMs?: number,
): Promise<ExecResult> {
  const startedAtMs = Date.now();
  return recordStep(steps, name, script, await host.sh(script, timeoutMs), startedAtMs);
}

/** Keeps a call already made as one of the attempt's steps. */
export function recordStep(
  steps: Step[],
  name: string,
  script: string,
  result: ExecResult,
  startedAtMs: number,
): ExecResult {
  steps.push({
    name,
    startedAtMs,
    command: script,
    exitCode: result.exitCode,
    stdout: trim(result.stdout),
    stderr: trim(result.stderr),
    ms: result.ms,
  });
  return result;
}

/** Like runStep, but a non-zero exit is a harness failure (the step was meant to set the stage, not to be observed). */
export async function mustStep(
  host: Host,
  steps: Step[],
  name: string,
  script: string,
  timeoutMs?: number,
): Promise<ExecResult> {
  return judged(name, await runStep(host, steps, name, script, timeoutMs), "must");
}

const stepFailure = (name: string, result: ExecResult) =>
  new Error(`${name} failed (exit ${result.exitCode}): ${(result.stderr || result.stdout).trim().slice(-400)}`);

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
  const lines = output
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  const plain = lines.find((l) =>
    /^(failed to start daemon|unable to configure the Docker daemon|Error response from daemon|docker: Error)/i.test(l),
  );
  const logged = lines.find((l) => /level=fatal|failed to start daemon|unable to configure the Docker daemon/i.test(l));
  const field = (name: string) =>
    logged ? new RegExp(`${name}="((?:[^"\\\\]|\\\\.)*)"`).exec(logged)?.[1]?.replace(/\\"/g, '"') : undefined;
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
export async function engineStep(
  host: Host,
  steps: Step[],
  name: string,
  script: string,
  timeoutMs?: number,
): Promise<ExecResult> {
  return judged(name, await runStep(host, steps, name, script, timeoutMs), "engine");
}

/** How a step's failure counts: observed (kept as evidence), a harness failure (must), or the engine's refusal when it explains itself (engine). */
export type StepPolicy = "observe" | "must" | "engine";

function judged(name: string, result: ExecResult, policy: StepPolicy): ExecResult {
  if (result.exitCode === 0 || policy === "observe") return result;
  const output = `${result.stdout}\n${result.stderr}`;
  if (policy === "must" || INVALID_DAEMON_JSON.test(output) || !ENGINE_SAID_NO.test(output))
    throw stepFailure(name, result);
  throw new EngineRefusal(name, refusalDetail(output));
}

/** What each step of a batch may take by default (as each had when it was a call of its own): a slow VM under load needs it. */
const STEP_TIMEOUT_MS = TIMEOUT_MS.hostExec;

export interface NamedStep {
  name: string;
  script: string;
  /** default "must" */
  policy?: StepPolicy;
  /** keep it among the attempt's steps (default); reads of evidence kept elsewhere say false */
  record?: boolean;
}

/** One call into the host for a batch of steps (src/contract/step-batch.ts): the call itself, and the result of each step that ran. */
export async function callBatch(
  host: Host,
  batch: readonly BatchStep[],
  timeoutMs: number,
): Promise<{ call: ExecResult; results: BatchStepResult[] }> {
  const nonce = randomBytes(6).toString("hex");
  const call = await host.sh(stepBatchScript(batch, nonce), timeoutMs);
  return { call, results: parseStepBatch(call, nonce, batch.length) };
}

/**
 * Runs named steps in order with one call into the host: each is recorded like runStep's and
 * judged by its policy. The batch stops at the first failing step that is not observed; its
 * failure is thrown as mustStep or engineStep would. Returns each step's result, in order.
 */
export async function runSteps(
  host: Host,
  steps: Step[],
  list: readonly NamedStep[],
  timeoutMs = STEP_TIMEOUT_MS * list.length,
): Promise<ExecResult[]> {
  const { call, results } = await callBatch(
    host,
    list.map((s) => ({ script: s.script, mayFail: s.policy === "observe" })),
    timeoutMs,
  );
  results.forEach((result, i) => {
    const step = list[i] as NamedStep;
    if (step.record !== false)
      steps.push({
        name: step.name,
        startedAtMs: result.startedAtMs,
        command: step.script,
        exitCode: result.exitCode,
        stdout: trim(result.stdout),
        stderr: trim(result.stderr),
        ms: result.ms,
      });
    judged(step.name, result, step.policy ?? "must");
  });
  if (results.length < list.length) {
    const cut = list[results.length] as NamedStep;
    throw stepFailure(`${cut.name} (never ran: the call into the host ended first)`, call);
  }
  return results;
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

const writeDaemonJsonScript = (options: Record<string, unknown>) =>
  `printf '%s\\n' ${shellQuote(daemonJson(options))} > ${HOST_FILES.daemonJson}`;

export async function writeDaemonJson(host: Host, steps: Step[], options: Record<string, unknown>): Promise<void> {
  await mustStep(host, steps, "write daemon.json", writeDaemonJsonScript(options));
}

export interface InnerEngineOptions {
  /** iptables build name (its directory under /opt/fwcompat/iptables) */
  build: string;
  backend: "nft" | "legacy";
  daemonOptions: Record<string, unknown>;
  /** net.ipv4.ip_forward when dockerd starts: it decides the FORWARD policy dockerd sets */
  ipForwardAtStart: number;
}

const READ_IP_FORWARD = readSysctl(SYSCTL.ipForward);

/**
 * Puts the build first on dockerd's PATH, writes daemon.json, sets forwarding, reads the
 * kernel's legacy xtables and nf_tables, starts the host's dockerd and imports the workload
 * image (one call into the host); returns ip_forward before and after dockerd started, and the
 * kernel's capability. A dockerd that will not start under these settings throws an EngineRefusal.
 */
export async function startInnerEngine(
  host: Host,
  steps: Step[],
  options: InnerEngineOptions,
  /** told the kernel's capability as soon as it is read, also when dockerd then refuses to start */
  onKernel: (kernel: KernelCapability) => void = () => {},
): Promise<{ atStart: number; afterDockerd: number }> {
  const build = { name: options.build };
  const kernelStep = "kernel capability";
  const recordedBefore = steps.length;
  try {
    const results = await runSteps(host, steps, [
      { name: "select iptables", script: selectIptablesCommand(build, options.backend) },
      { name: "write daemon.json", script: writeDaemonJsonScript(options.daemonOptions) },
      { name: "set ip_forward", script: setSysctl({ [SYSCTL.ipForward]: options.ipForwardAtStart }, { quiet: true }) },
      { name: "ip_forward at start", script: READ_IP_FORWARD, record: false },
      { name: kernelStep, script: kernelCapabilityScript(build), policy: "observe" },
      { name: "start dockerd", script: dockerdCommand("start"), policy: "engine" },
      { name: "ip_forward after dockerd", script: READ_IP_FORWARD, record: false },
      { name: "import workload image", script: HOST_TOOLS.workloadImage },
    ]);
    return { atStart: Number(results[3]?.stdout.trim()), afterDockerd: Number(results[6]?.stdout.trim()) };
  } finally {
    const read = steps.slice(recordedBefore).find((s) => s.name === kernelStep);
    if (read) onKernel(parseKernelCapability(read.stdout));
  }
}
