import { splitTraceLine, TRACE } from "../contract/host-contract.js";

/** One iptables/ip6tables invocation recorded by the in-host shim. */
export interface TraceCall {
  startMs: number;
  endMs: number;
  exitCode: number;
  /** command name of the calling process (dockerd, sh, ...) */
  caller: string;
  /** the build directory that ran it, e.g. /opt/fwcompat/iptables/1.8.11/bin-nft */
  buildDir: string;
  tool: string;
  args: string[];
  stderr: string;
  /** the script an `nft -f -` call read from stdin */
  stdin?: string;
}

/** nft calls share the trace with iptables calls (Docker 29's nftables backend, nftables services). */
export const isNftCall = (call: Pick<TraceCall, "tool">) => call.tool === "nft";

export function parseTrace(text: string): TraceCall[] {
  const calls: TraceCall[] = [];
  for (const line of text.split("\n")) {
    const fields = splitTraceLine(line);
    if (!fields) continue;
    calls.push({
      ...(fields.stdin ? { stdin: fields.stdin.split(TRACE.stderrNewline).join("\n") } : {}),
      startMs: Number(fields.start) * 1000,
      endMs: Number(fields.end) * 1000,
      exitCode: Number(fields.exitCode),
      caller: fields.caller,
      buildDir: fields.buildDir,
      tool: fields.tool,
      args: fields.args.split(TRACE.argEnd).slice(0, -1),
      stderr: fields.stderr.split(TRACE.stderrNewline).join("\n").trim(),
    });
  }
  return calls.sort((a, b) => a.startMs - b.startMs);
}

export type Operation = "append" | "insert" | "delete" | "check" | "new-chain" | "delete-chain" | "flush" | "other";

export interface ParsedCall {
  table: string;
  operation: Operation;
  chain: string | undefined;
  /** the rule specification as given, flags like --wait removed */
  spec: string[];
}

const OPERATIONS: Record<string, Operation> = {
  "-A": "append",
  "--append": "append",
  "-I": "insert",
  "--insert": "insert",
  "-D": "delete",
  "--delete": "delete",
  "-C": "check",
  "--check": "check",
  "-N": "new-chain",
  "--new-chain": "new-chain",
  "-X": "delete-chain",
  "--delete-chain": "delete-chain",
  "-F": "flush",
  "--flush": "flush",
};

/** Splits an iptables argv into table, operation, chain and rule spec. */
export function parseCall(args: readonly string[]): ParsedCall {
  let table = "filter";
  let operation: Operation = "other";
  let chain: string | undefined;
  const spec: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === "-w" || arg === "--wait") {
      if (/^\d+$/.test(args[i + 1] ?? "")) i++;
    } else if (arg === "-t" || arg === "--table") {
      table = args[++i] ?? table;
    } else if (operation === "other" && OPERATIONS[arg]) {
      operation = OPERATIONS[arg] as Operation;
      const next = args[i + 1];
      if (next !== undefined && !next.startsWith("-")) {
        chain = next;
        i++;
        // -I CHAIN [rulenum]
        if (operation === "insert" && /^\d+$/.test(args[i + 1] ?? "")) i++;
      }
    } else {
      spec.push(arg);
    }
  }
  return { table, operation, chain, spec };
}

const SAVE_ORDER = ["-s", "-d", "-i", "-o", "-p"];
const LONG_NAMES: Record<string, string> = {
  "--source": "-s",
  "--destination": "-d",
  "--in-interface": "-i",
  "--out-interface": "-o",
  "--protocol": "-p",
  "--jump": "-j",
};

/**
 * Puts a rule spec in the form `iptables-save` prints it: address, interface and protocol
 * options first in save order, host addresses as /32, and the implicit `-m tcp|udp`
 * before port options. Enough for the rules dockerd writes.
 */
export function canonicalSpec(spec: readonly string[]): string {
  const groups: string[][] = [];
  for (let i = 0; i < spec.length; i++) {
    const group: string[] = [];
    if (spec[i] === "!") group.push(spec[i++] as string);
    const option = spec[i] as string;
    group.push(LONG_NAMES[option] ?? option);
    while (i + 1 < spec.length && !(spec[i + 1] as string).startsWith("-") && spec[i + 1] !== "!")
      group.push(spec[++i] as string);
    groups.push(group);
  }
  const optionOf = (g: string[]) => (g[0] === "!" ? g[1] : g[0]) as string;
  const first = SAVE_ORDER.flatMap((o) => groups.filter((g) => optionOf(g) === o));
  const rest = groups.filter((g) => !SAVE_ORDER.includes(optionOf(g)));
  for (const g of first) {
    const o = optionOf(g);
    const last = g.length - 1;
    if ((o === "-s" || o === "-d") && /^\d+\.\d+\.\d+\.\d+$/.test(g[last] as string)) g[last] = `${g[last]}/32`;
  }
  const protocol = first.find((g) => optionOf(g) === "-p")?.at(-1);
  const hasPorts = rest.some((g) =>
    ["--dport", "--sport", "--destination-port", "--source-port"].includes(optionOf(g)),
  );
  const hasMatch = rest.some((g) => optionOf(g) === "-m" && g.at(-1) === protocol);
  const implicit = protocol && hasPorts && !hasMatch ? [["-m", protocol]] : [];
  return [...first, ...implicit, ...rest].map((g) => g.join(" ")).join(" ");
}
