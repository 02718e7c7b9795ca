/**
 * Bridge names (br-<network id>) differ on every fresh host; naming them by network
 * (br-{fwc-net2}) makes rules of two attempts comparable. docker0 is the same everywhere.
 */
export interface BridgeOfNetwork {
  network: string;
  bridge: string;
}

export function nameBridges(rule: string, targets: readonly BridgeOfNetwork[]): string {
  let named = rule;
  for (const t of targets) if (t.bridge !== "docker0") named = named.split(t.bridge).join(`br-{${t.network}}`);
  return named;
}

export function unnameBridges(rule: string, targets: readonly BridgeOfNetwork[]): string {
  let raw = rule;
  for (const t of targets) if (t.bridge !== "docker0") raw = raw.split(`br-{${t.network}}`).join(t.bridge);
  return raw;
}
