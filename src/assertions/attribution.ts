import type { FindingRecord, SkippedRuleRecord, StepRecord, TraceAnalysisRecord } from "../results/schema.js";
import { hasRule, type RuleSet } from "./iptables-save.js";
import { canonicalSpec, isNftCall, parseCall, type TraceCall } from "./trace.js";

export type TimedStep = Pick<StepRecord, "name" | "startedAtMs" | "ms">;
export type Finding = FindingRecord;
export type SkippedRule = SkippedRuleRecord;
/** An analysis made now always counts dockerd's nft calls, its table reloads and silent refusals (only older result files lack the counts). */
export type TraceAnalysis = TraceAnalysisRecord & {
  dockerdNftCalls: number;
  dockerdNftReloads: number;
  silentRefusals: number;
};

/** What libxtables exits with, printing nothing, when it refuses to run (setuid, and in 1.8.12 any secure exec). */
export const XTABLES_REFUSAL_EXIT = 111;

/** A call that libxtables refused before doing anything: exit 111 and not a word. */
export const isSilentRefusal = (call: Pick<TraceCall, "exitCode" | "stderr">) =>
  call.exitCode === XTABLES_REFUSAL_EXIT && call.stderr.trim() === "";

type Chains = Map<string, string[]>;

/**
 * Replays every rule-changing call (dockerd's and the scenario's own) on a model of the
 * tables, per address family and backend, and judges each of dockerd's checks against it:
 * a check that answered "exists" for a rule the model does not hold is a false positive,
 * and when no add of that rule follows, the rule was skipped.
 */
export function analyseTrace(
  calls: readonly TraceCall[],
  options: { finalRules?: RuleSet; steps?: readonly TimedStep[] },
): TraceAnalysis {
  const tables = new Map<string, Chains>();
  const chainsOf = (call: TraceCall, table: string): Chains => {
    const family = call.tool.startsWith("ip6") ? "v6" : "v4";
    const backend = call.buildDir.endsWith("legacy") ? "legacy" : "nft";
    const key = `${family}/${backend}/${table}`;
    let chains = tables.get(key);
    if (!chains) tables.set(key, (chains = new Map()));
    return chains;
  };
  const stepAt = (ms: number) => options.steps?.find((s) => ms >= s.startedAtMs && ms <= s.startedAtMs + s.ms)?.name;
  const analysis: TraceAnalysis = {
    calls: calls.length,
    dockerdCalls: 0,
    dockerdNftCalls: 0,
    dockerdNftReloads: 0,
    falsePositives: [],
    falseNegatives: [],
    deleteMismatches: [],
    failedCalls: [],
    silentRefusals: 0,
    skippedRules: [],
    explanation: "",
  };
  const reloadSteps: string[] = [];
  for (const call of calls.filter(isNftCall)) {
    if (call.caller !== "dockerd") continue;
    analysis.dockerdNftCalls++;
    if (call.exitCode !== 0 && !isNftCleanup(call)) analysis.failedCalls.push(nftFailure(call, stepAt(call.startMs)));
    if (call.exitCode === 0 && reloadsTable(call)) {
      analysis.dockerdNftReloads++;
      reloadSteps.push(stepAt(call.startMs) ?? "dockerd's own work");
    }
  }
  const silentRefusalCalls: string[] = [];
  const parsed = calls
    .filter((call) => !isNftCall(call))
    .map((call) => {
      const split = parseCall(call.args);
      return { call, ...split, canonical: canonicalSpec(split.spec) };
    });

  parsed.forEach(({ call, table, operation, chain, canonical }, index) => {
    const byDockerd = call.caller === "dockerd";
    if (byDockerd) analysis.dockerdCalls++;
    if (byDockerd && isSilentRefusal(call)) {
      analysis.silentRefusals++;
      silentRefusalCalls.push(`${call.tool} ${call.args.join(" ")}`);
    }
    const chains = chainsOf(call, table);
    const rules = chain ? chains.get(chain) : undefined;
    const finding = (kind: Finding["kind"]): Finding => ({
      kind,
      rule: `${table} ${chain ?? ""} ${canonical}`.replace(/\s+/g, " ").trim(),
      call: call.args.join(" "),
      atMs: call.startMs,
      ...(call.stderr ? { stderr: call.stderr } : {}),
      ...(call.exitCode !== 0 ? { exitCode: call.exitCode } : {}),
      ...(stepAt(call.startMs) ? { step: stepAt(call.startMs) } : {}),
    });
    if (operation === "check") {
      // An erroring check (exit 2: no such chain) is dockerd probing for leftovers of an earlier run.
      if (!byDockerd) return;
      const present = rules?.includes(canonical) ?? false;
      if (call.exitCode === 0 && !present) {
        analysis.falsePositives.push(finding("false-positive"));
        const addedLater = parsed
          .slice(index + 1)
          .some(
            (p) =>
              p.call.caller === "dockerd" &&
              p.table === table &&
              p.chain === chain &&
              p.canonical === canonical &&
              (p.operation === "append" || p.operation === "insert") &&
              p.call.exitCode === 0,
          );
        if (!addedLater) {
          const rule = `${table} ${chain} ${canonical}`;
          const confirmedMissing = options.finalRules
            ? !hasRule(options.finalRules, table, chain ?? "", canonical)
            : false;
          if (!analysis.skippedRules.some((s) => s.rule === rule))
            analysis.skippedRules.push({ rule, confirmedMissing });
        }
      } else if (call.exitCode === 1 && present) {
        analysis.falseNegatives.push(finding("false-negative"));
      }
      return;
    }
    if (call.exitCode !== 0) {
      if (byDockerd && isRealFailure(operation, call)) analysis.failedCalls.push(finding("failed-call"));
      return;
    }
    switch (operation) {
      case "new-chain":
        if (chain && !chains.has(chain)) chains.set(chain, []);
        break;
      case "delete-chain":
        if (chain) chains.delete(chain);
        else for (const name of [...chains.keys()]) if (!isBuiltin(name)) chains.delete(name);
        break;
      case "flush":
        if (chain) chains.set(chain, []);
        else for (const name of chains.keys()) chains.set(name, []);
        break;
      case "append":
      case "insert": {
        if (!chain) break;
        const list = chains.get(chain) ?? [];
        if (operation === "append") list.push(canonical);
        else list.unshift(canonical);
        chains.set(chain, list);
        break;
      }
      case "delete": {
        const at = rules?.indexOf(canonical) ?? -1;
        if (rules && at >= 0) rules.splice(at, 1);
        else if (byDockerd && canonical !== "") analysis.deleteMismatches.push(finding("delete-mismatch"));
        break;
      }
      default:
        break;
    }
  });
  analysis.failedCalls.sort((x, y) => x.atMs - y.atMs);
  analysis.explanation = explain(analysis, silentRefusalCalls[0], reloadSteps);
  return analysis;
}

/**
 * A script that deletes a table and declares it again with its contents: Docker 29's nftables
 * backend re-creating its whole table from what it holds in memory (its answer to an
 * incremental update that failed).
 */
export function reloadsTable(call: Pick<TraceCall, "stdin">): boolean {
  const lines = (call.stdin ?? "").split("\n").map((l) => l.trim());
  const deleted = lines.findIndex((l) => /^delete table \S+ \S+$/.test(l));
  if (deleted < 0) return false;
  const table = (lines[deleted] as string).slice("delete table ".length);
  return lines.slice(deleted + 1).some((l) => l.startsWith(`table ${table} {`) && l !== `table ${table} {}`);
}

/** dockerd deleting tables that may not exist (every start does, on either backend): a failure there is routine. */
function isNftCleanup(call: TraceCall): boolean {
  const statements = (call.stdin ?? "")
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  return (
    statements.length > 0 &&
    statements.every((l) => l.startsWith("delete ")) &&
    /No such file or directory/.test(call.stderr)
  );
}

/** A failed nft call by dockerd: its rule is the command (and the first line of the script it loaded). */
function nftFailure(call: TraceCall, step: string | undefined): Finding {
  const firstLine = call.stdin
    ?.split("\n")
    .find((line) => line.trim())
    ?.trim();
  return {
    kind: "failed-call",
    rule: `nft ${call.args.join(" ")}${firstLine ? ` (${firstLine}…)` : ""}`,
    call: `nft ${call.args.join(" ")}`,
    atMs: call.startMs,
    ...(call.stderr ? { stderr: call.stderr } : {}),
    ...(step ? { step } : {}),
  };
}

/**
 * dockerd's failed removals are its routine clean-up of rules and chains that may not
 * exist (every start does dozens), and "already exists" answers to -N are expected;
 * a failed add is what costs a rule.
 */
function isRealFailure(operation: string, call: TraceCall): boolean {
  if (operation === "append" || operation === "insert") return true;
  return operation === "new-chain" && !/already exists/i.test(call.stderr);
}

/** Rules that carry published-port traffic first: they explain a timeout best. */
const CHAIN_WEIGHT = ["DOCKER-BRIDGE", "DOCKER-CT", "FORWARD", "DOCKER"];
const weight = (rule: string) => {
  const chain = rule.split(" ")[1] ?? "";
  const at = CHAIN_WEIGHT.indexOf(chain);
  return at < 0 ? CHAIN_WEIGHT.length : at;
};

const isBuiltin = (chain: string) => ["INPUT", "OUTPUT", "FORWARD", "PREROUTING", "POSTROUTING"].includes(chain);

/** How a failed call's output reads in one line: its first line of stderr, or its exit status when it said nothing. */
const firstWords = (f: Finding) =>
  f.stderr ? `"${f.stderr.split("\n")[0]}"` : f.exitCode !== undefined ? `exit ${f.exitCode}, no output` : `no output`;

function explain(a: TraceAnalysis, firstRefused: string | undefined, reloadSteps: readonly string[] = []): string {
  const parts: string[] = [];
  if (a.silentRefusals > 0)
    parts.push(
      `${a.silentRefusals} iptables call(s) by dockerd exited ${XTABLES_REFUSAL_EXIT} with no output: iptables refused to run (libxtables' check for a secure exec, AT_SECURE, in 1.8.12) (first: ${firstRefused})`,
    );
  if (a.falsePositives.length > 0) {
    const shown = [...a.skippedRules]
      .sort((x, y) => weight(x.rule) - weight(y.rule))
      .slice(0, 3)
      .map((s) => s.rule.replace(/^filter /, ""));
    const more = a.skippedRules.length > 3 ? `, and ${a.skippedRules.length - 3} more` : "";
    parts.push(
      `${a.falsePositives.length} iptables -C check(s) answered "exists" for rules that were not there` +
        (a.skippedRules.length ? ` → skipped: ${shown.join("; ")}${more}` : ""),
    );
  }
  if (a.falseNegatives.length > 0)
    parts.push(`${a.falseNegatives.length} check(s) answered "missing" for rules that were there`);
  if (a.deleteMismatches.length > 0)
    parts.push(
      `${a.deleteMismatches.length} -D call(s) succeeded for rules that were never added (another rule was removed)`,
    );
  if (a.failedCalls.length > 0) {
    const first = a.failedCalls[0] as Finding;
    const steps = [...new Set(a.failedCalls.map((f) => f.step ?? "dockerd's own work"))];
    const tools = a.failedCalls.every((f) => f.rule.startsWith("nft "))
      ? "nft"
      : a.failedCalls.some((f) => f.rule.startsWith("nft "))
        ? "iptables/nft"
        : "iptables";
    parts.push(
      `${a.failedCalls.length} ${tools} call(s) by dockerd failed during ${steps.join(", ")} (first: ${firstWords(first)})`,
    );
  }
  if (reloadSteps.length > 0)
    parts.push(
      `dockerd re-created its whole nftables table ${reloadSteps.length} time(s), during ${[...new Set(reloadSteps)].join(", ")}`,
    );
  const nft = a.dockerdNftCalls > 0 ? ` (and ${a.dockerdNftCalls} nft calls)` : "";
  return parts.length
    ? parts.join("; ")
    : `no wrong answers: ${a.dockerdCalls} iptables calls by dockerd${nft}, none failed`;
}
