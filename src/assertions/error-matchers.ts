import type { MatchedErrorRecord } from "../results/schema.js";

/** Known failure signatures of Docker × iptables, matched against captured command output. */
export interface ErrorSignature {
  id: string;
  summary: string;
  pattern: RegExp;
}

export type MatchedError = MatchedErrorRecord;

/** Most specific first: each line of output is attributed to the first signature it matches. */
export const SIGNATURES: readonly ErrorSignature[] = [
  {
    id: "no-chain",
    summary: "iptables: No chain/target/match by that name (e.g. driver failed programming external connectivity)",
    pattern: /No chain\/target\/match by that name/,
  },
  {
    id: "chain-does-not-exist",
    summary: "iptables (nft): Chain '...' does not exist",
    pattern: /Chain '[^']+' does not exist/,
  },
  {
    id: "legacy-table-missing",
    summary:
      "iptables (legacy): can't initialize iptables table `nat': Table does not exist (a kernel without the legacy xtables tables)",
    // dockerd quotes only the first line of iptables' output: modprobe's, where the kernel has no such module
    pattern:
      /can't initialize (?:ip6?tables|arptables|ebtables) table `[^']+': (?:Table does not exist|iptables who\?)|modprobe: FATAL: Module (?:ip6?_tables|arp_tables|ebtables) not found/,
  },
  {
    id: "ipv4-forwarding-disabled",
    summary: "WARNING: IPv4 forwarding is disabled. Networking will not work.",
    pattern: /IPv4 forwarding is disabled/,
  },
  {
    // dockerd quotes the command and its (empty) output: "iptables failed: iptables --wait -t nat -N DOCKER:  (exit status 111)"
    id: "iptables-exit-111",
    summary:
      "an iptables command exited 111 and printed nothing: libxtables refusing to run in a secure exec (AT_SECURE; iptables 1.8.12)",
    pattern: /exit status 111\b/,
  },
  {
    id: "iptables-failed",
    summary: "another failure of an iptables command run by dockerd",
    pattern: /iptables failed|Failed to (Setup IP tables|program)/i,
  },
];

/** Each output line that matches a signature, with the line as the user sees it. */
export function matchErrors(step: string, output: string): MatchedError[] {
  const found: MatchedError[] = [];
  for (const line of output.split("\n")) {
    const signature = SIGNATURES.find((s) => s.pattern.test(line));
    if (signature) found.push({ step, signature: signature.id, text: line.trim() });
  }
  return found;
}
