import type { ExecResult } from "../contract/exec.js";

export type Outcome = "ok" | "timeout" | "refused" | "reset" | "error";
/**
 * Where a probe is sent from. The first four apply to every scenario; the rest exist where a
 * scenario deploys them: a VM-like namespace behind a foreign bridge towards another one on
 * the same bridge (bridged) or towards a network beyond the host (routed), and a container
 * towards its neighbour's published port through the host's address (hairpin).
 */
export const VANTAGES = ["localhost", "host-ip", "external", "cross-network", "foreign-bridged", "foreign-routed", "hairpin"] as const;
export type Vantage = (typeof VANTAGES)[number];
export type Expectation = "reachable" | "blocked";

export interface ProbeSpec {
  vantage: Vantage;
  /** what is probed, e.g. "fwc-net2/n2c1 :8082" */
  target: string;
  /** shell command that prints the answer's body on success */
  command: string;
  /** the hostname the right container answers with */
  expectAnswer: string;
  expect: Expectation;
  /** for a blocked expectation: the policy that must block it (e.g. "ufw denies 8081/tcp"); getting through is a security finding */
  guard?: string;
}

export interface ProbeResult {
  vantage: Vantage;
  target: string;
  expect: Expectation;
  outcome: Outcome;
  /** the outcome is what the expectation asks for */
  pass: boolean;
  ms: number;
  detail: string;
  guard?: string;
}

export const curlCommand = (url: string, timeoutMs: number) => `curl -sS -m ${(timeoutMs / 1000).toFixed(1)} ${url}`;
/** From inside a workload container (busybox): wget with its own timeout, bounded again by `timeout`. */
export const containerWgetCommand = (container: string, url: string, timeoutMs: number) => {
  const seconds = Math.ceil(timeoutMs / 1000);
  return `timeout ${seconds + 2} docker exec ${container} wget -q -O- -T ${seconds} ${url}`;
};

/**
 * One shell script that runs every probe in parallel (so a batch costs one probe timeout,
 * not the sum) and prints `index|exit|ms|body|stderr` per probe.
 */
export function probeScript(specs: readonly ProbeSpec[]): string {
  const lines = specs.map(
    (spec, i) =>
      `( s=$(date +%s%N); b=$(${spec.command} 2>/tmp/fwc-probe-err.${i}); rc=$?; e=$(date +%s%N); ` +
      `printf '%s|%s|%s|%s|%s\\n' ${i} $rc $(( (e - s) / 1000000 )) "$(printf %s "$b" | head -c 120 | tr '|\\n' '  ')" "$(head -c 200 /tmp/fwc-probe-err.${i} | tr '|\\n' '  ')"; rm -f /tmp/fwc-probe-err.${i} ) &`,
  );
  return [...lines, "wait"].join("\n");
}

export function parseProbeOutput(specs: readonly ProbeSpec[], run: ExecResult): ProbeResult[] {
  const rows = new Map<number, string[]>();
  for (const line of run.stdout.split("\n")) {
    const fields = line.split("|");
    if (fields.length >= 5) rows.set(Number(fields[0]), fields);
  }
  return specs.map((spec, i) => {
    const row = rows.get(i);
    if (!row) {
      return result(spec, "error", 0, `no answer from the probe script (exit ${run.exitCode}): ${run.stderr.slice(0, 200)}`);
    }
    const [, rc = "", ms = "0", body = "", stderr = ""] = row;
    const outcome = classify(Number(rc), stderr);
    let detail = stderr.trim();
    let finalOutcome = outcome;
    if (outcome === "ok") {
      const answer = body.trim();
      if (answer !== spec.expectAnswer) {
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
  const pass = spec.expect === "reachable" ? outcome === "ok" : outcome === "timeout" || outcome === "refused" || outcome === "reset";
  return { vantage: spec.vantage, target: spec.target, expect: spec.expect, outcome, pass, ms, detail, ...(spec.guard ? { guard: spec.guard } : {}) };
}

/** Maps curl's and busybox wget's exit codes and messages onto one vocabulary. */
export function classify(exitCode: number, stderr: string): Outcome {
  if (exitCode === 0) return "ok";
  if (exitCode === 28 || exitCode === 124 || exitCode === 143 || /timed out|timeout/i.test(stderr)) return "timeout";
  if (/refused/i.test(stderr)) return "refused";
  if (exitCode === 56 || exitCode === 52 || /reset|recv failure|empty reply/i.test(stderr)) return "reset";
  return "error";
}
