import { createHash } from "node:crypto";
import type { ExecResult } from "../contract/exec.js";
import { HARNESS_SCRATCH, PROBE_OUTPUT, probeLineFormat, splitProbeLine } from "../contract/host-contract.js";
import { VANTAGES, type EXPECTATIONS, type PROBE_OUTCOMES, type ProbeRecord } from "../results/schema.js";

export { VANTAGES };
export type Outcome = (typeof PROBE_OUTCOMES)[number];
export type Vantage = (typeof VANTAGES)[number];
export type Expectation = (typeof EXPECTATIONS)[number];

export interface ProbeSpec {
  vantage: Vantage;
  /** what is probed, e.g. "fwc-net2/n2c1 :8082" */
  target: string;
  /** the shell command that prints the answer's body on success, bounded by the timeout it is given */
  command: (timeoutMs: number) => string;
  /** the hostname the right container answers with (any answer counts when undefined) */
  expectAnswer?: string;
  expect: Expectation;
  /** for a blocked expectation: the policy that must block it (e.g. "ufw denies 8081/tcp"); getting through is a security finding */
  guard?: string;
  /** a multi-node cell: the node whose host runs the probe (default: the scenario's host, node-a) */
  node?: string;
}

export type ProbeResult = ProbeRecord;

export const curlCommand = (url: string, timeoutMs: number) => `curl -sS -m ${(timeoutMs / 1000).toFixed(1)} ${url}`;
/**
 * Seconds a probe command may take beyond its own network timeout before its outer bound
 * cuts it off: the call into the host and a probe's own start (a `docker inspect` before
 * `nsenter` for a container the pin step did not list) take seconds on a slow host (a VM under software emulation), and a probe cut off
 * there never reached the network.
 */
export const PROBE_EXEC_ALLOWANCE_S = 30;

/** The pid of a workload container, from the pin step's list, else from the engine. */
const containerPid = (container: string) =>
  `"$(sed -n 's/^${container} //p' ${HARNESS_SCRATCH.containerPids} 2>/dev/null | grep . || docker inspect -f '{{.State.Pid}}' ${container})"`;

/**
 * From a workload container: the host's curl inside the container's network namespace, so the
 * packet leaves from the container's own address and interface as the container's own client's
 * would, without a `docker exec` per probe (slow on a VM under emulation) and with a timeout
 * finer than busybox wget's whole seconds. The container's pid comes from the list the pin step
 * wrote just before the probes (the docker CLI costs ~40 ms of CPU a call), else from the engine.
 */
export const containerProbeCommand = (container: string, url: string, timeoutMs: number) =>
  `nsenter -n -t ${containerPid(container)} ${curlCommand(url, timeoutMs)}`;

/**
 * An ICMP echo from a workload container (its own network namespace, as containerProbeCommand)
 * to an address: prints `answer` when the reply comes, else says so and exits as curl does on a
 * timeout (28), so a lost ping reads as a timeout. busybox's ping waits whole seconds.
 */
export const containerPingCommand = (container: string, address: string, answer: string, timeoutMs: number) => {
  const seconds = Math.max(1, Math.ceil(timeoutMs / 1000));
  return `{ nsenter -n -t ${containerPid(container)} busybox ping -c 1 -W ${seconds} ${address} >/dev/null && echo ${answer}; } || { echo "ping: no echo reply from ${address} within ${seconds}s" >&2; exit 28; }`;
};

/**
 * One shell script that runs every probe in parallel (so a batch costs one probe timeout,
 * not the sum) and prints one PROBE_OUTPUT line per probe (src/contract/host-contract.ts).
 */
export function probeScript(specs: readonly ProbeSpec[], timeoutMs: number): string {
  const clean = `tr '${PROBE_OUTPUT.separator}\\n' '  '`;
  const lines = specs.map(
    (spec, i) =>
      `( s=$(date +%s%N); b=$(${spec.command(timeoutMs)} 2>/tmp/fwc-probe-err.$$.${i}); rc=$?; e=$(date +%s%N); ` +
      `printf '${probeLineFormat()}' ${i} $rc $(( (e - s) / 1000000 )) "$(printf %s "$b" | head -c 120 | ${clean})" "$(head -c 200 /tmp/fwc-probe-err.$$.${i} | ${clean})"; rm -f /tmp/fwc-probe-err.$$.${i} ) &`,
  );
  return [...lines, "wait"].join("\n");
}

export function parseProbeOutput(specs: readonly ProbeSpec[], run: ExecResult): ProbeResult[] {
  const rows = new Map<number, NonNullable<ReturnType<typeof splitProbeLine>>>();
  for (const line of run.stdout.split("\n")) {
    const fields = splitProbeLine(line);
    if (fields) rows.set(Number(fields.index), fields);
  }
  return specs.map((spec, i) => {
    const row = rows.get(i);
    if (!row) {
      return result(
        spec,
        "error",
        0,
        `no answer from the probe script (exit ${run.exitCode}): ${run.stderr.slice(0, 200)}`,
      );
    }
    const { exit: rc, ms, body, stderr } = row;
    const outcome = classify(Number(rc), stderr);
    let detail =
      stderr.trim() ||
      (outcome === "error" && CUT_OFF.has(Number(rc))
        ? `cut off by its outer bound after ${ms} ms: the probe itself never finished`
        : "");
    let finalOutcome = outcome;
    if (outcome === "ok") {
      const answer = body.trim();
      if (spec.expectAnswer !== undefined && answer !== spec.expectAnswer) {
        finalOutcome = "error";
        detail = `answered by '${answer}', expected '${spec.expectAnswer}'`;
      } else {
        detail = `answered by ${answer}`;
      }
    }
    return result(spec, finalOutcome, Number(ms), detail);
  });
}

function result(spec: ProbeSpec, outcome: Outcome, ms: number, detail: string): ProbeResult {
  const pass =
    spec.expect === "reachable"
      ? outcome === "ok"
      : outcome === "timeout" || outcome === "refused" || outcome === "reset";
  return {
    vantage: spec.vantage,
    target: spec.target,
    expect: spec.expect,
    outcome,
    pass,
    ms,
    detail,
    ...(spec.guard ? { guard: spec.guard } : {}),
  };
}

/** Exit codes of coreutils `timeout` (and of the TERM it sends) when the bound, not the probe, ended the command. */
const CUT_OFF = new Set([124, 137, 143]);

/**
 * Maps curl's and busybox wget's exit codes and messages onto one vocabulary. A command cut
 * off by its outer bound without saying it timed out is an error, not a timeout: the probe
 * never told whether the network answered (a blocked connection must be seen timing out).
 */
export function classify(exitCode: number, stderr: string): Outcome {
  if (exitCode === 0) return "ok";
  if (exitCode === 28 || /timed out|timeout/i.test(stderr)) return "timeout";
  if (CUT_OFF.has(exitCode)) return "error";
  if (/refused/i.test(stderr)) return "refused";
  if (exitCode === 56 || exitCode === 52 || /reset|recv failure|empty reply/i.test(stderr)) return "reset";
  return "error";
}

const factorial = (n: number): number => (n <= 1 ? 1 : n * factorial(n - 1));
const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** The k-th permutation (0-based, lexicographic by index) of `items`. */
function nthPermutation<T>(items: readonly T[], k: number): T[] {
  const pool = [...items];
  const out: T[] = [];
  for (let n = pool.length; n > 0; n--) {
    const size = factorial(n - 1);
    out.push(pool.splice(Math.floor(k / size), 1)[0] as T);
    k %= size;
  }
  return out;
}

/**
 * The order to probe `items` in, for repeat `repeat` of a run seeded with `seed`: the seed
 * picks a starting permutation and each repeat steps to a different one (a step coprime with
 * the number of permutations, so no order comes back before all have been used).
 */
export function probeOrder<T>(items: readonly T[], seed: string, repeat: number): T[] {
  const total = factorial(items.length);
  const start = createHash("sha256").update(seed).digest().readUInt32BE(0) % total;
  let step = Math.max(1, Math.round(total * 0.618));
  while (total > 1 && gcd(step, total) !== 1) step++;
  return nthPermutation(items, (start + repeat * step) % total);
}
