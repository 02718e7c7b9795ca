/**
 * Files of the host's own firewall services, where Debian keeps them. Scenarios write and
 * reload them; fixes change them the way an operator would.
 */
/** The IPv4 rules iptables-persistent saved and netfilter-persistent restores (iptables-restore) at boot and on reload. */
export const SAVED_IPTABLES_RULES = "/etc/iptables/rules.v4";
/** What nftables.service loads with `nft -f` at boot and on reload; Debian's default begins with `flush ruleset`. */
export const NFTABLES_CONF = "/etc/nftables.conf";
