/** Known failure signatures of Docker × iptables, matched against captured command output. */
export interface ErrorSignature {
  id: string;
  summary: string;
  pattern: RegExp;
}

export interface MatchedError {
  /** the scenario step whose output matched */
  step: string;
  signature: string;
  /** the exact line(s) the user sees */
  text: string;
}

export const SIGNATURES: readonly ErrorSignature[] = [
  {
    id: "no-chain",
    summary: "driver failed programming external connectivity: iptables: No chain/target/match by that name",
    pattern: /(driver failed programming external connectivity[^\n]*|[^\n]*)No chain\/target\/match by that name[^\n]*/,
  },
  {
    id: "chain-missing-on-network-create",
    summary: "network create fails because a DOCKER chain is missing",
    pattern: /[^\n]*(Failed to Setup IP tables|Failed to program|unable to (add|enable)[^\n]*(chain|rule))[^\n]*/i,
  },
  {
    id: "ipv4-forwarding-disabled",
    summary: "WARNING: IPv4 forwarding is disabled. Networking will not work.",
    pattern: /[^\n]*IPv4 forwarding is disabled[^\n]*/,
  },
  {
    id: "iptables-failed",
    summary: "an iptables command run by dockerd failed",
    pattern: /[^\n]*iptables failed[^\n]*/,
  },
];

/** Every signature found in `output`, each with the line the user would see. */
export function matchErrors(step: string, output: string): MatchedError[] {
  const found: MatchedError[] = [];
  for (const signature of SIGNATURES) {
    const match = signature.pattern.exec(output);
    if (match) found.push({ step, signature: signature.id, text: match[0].trim() });
  }
  return found;
}
