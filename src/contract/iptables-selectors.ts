/**
 * How images in the field pick the iptables dockerd gets, each rewritten here as plain POSIX
 * sh from reading the original (not copied): the host runs one before dockerd's first start and
 * it prints `pick=legacy|nft` and `why=<what it saw>`. "The image's iptables" is the cell's
 * build: its bin-nft/ is the default, its bin-legacy/ the legacy alternative.
 */
import { buildBinDir, keyValueEntries } from "./host-contract.js";
import { LEGACY_TABLE_LISTS, PROC_NET } from "./kernel-capability.js";

export const IPTABLES_SELECTORS = ["dind-entrypoint", "kind", "forced-legacy"] as const;
export type IptablesSelector = (typeof IPTABLES_SELECTORS)[number];

/** Only tests point the selectors at another /proc/net (a directory of table lists they write). */
export const SELECTOR_PROC_NET_ENV = "FWCOMPAT_PROC_NET";

const modprobeQuietly = (module: string) =>
  `{ command -v modprobe >/dev/null && modprobe ${module} >/dev/null 2>&1; } || :`;

/**
 * docker:dind's dockerd-entrypoint.sh: legacy when a legacy table list of this network namespace
 * is non-empty; else, when the default (nf_tables) `iptables -nL` fails even after loading
 * nf_tables, legacy if ip_tables loads and legacy `iptables -nL` works; else the default.
 */
function dindEntrypoint(nft: string, legacy: string): string {
  return `dir=\${${SELECTOR_PROC_NET_ENV}:-${PROC_NET}}
pick=nft; why="no legacy table listed here and the default (nf_tables) iptables -nL works"
listed=
for t in ${LEGACY_TABLE_LISTS.join(" ")}; do
  if v=$(cat "$dir/$t" 2>/dev/null) && [ -n "$v" ]; then listed=$t; break; fi
done
if [ -n "$listed" ]; then
  pick=legacy; why="$listed lists legacy tables ($(echo $v))"
elif ! "${nft}/iptables" -nL >/dev/null 2>&1; then
  ${modprobeQuietly("nf_tables")}
  if ! "${nft}/iptables" -nL >/dev/null 2>&1; then
    ${modprobeQuietly("ip_tables")}; ${modprobeQuietly("ip6_tables")}
    if "${legacy}/iptables" -nL >/dev/null 2>&1; then
      pick=legacy; why="the default (nf_tables) iptables -nL fails and legacy iptables -nL works"
    else
      why="neither nf_tables nor legacy iptables -nL works: the default (nf_tables) stays"
    fi
  fi
fi`;
}

/** kind's node entrypoint (select_iptables): count rules in legacy and in nf_tables save output; legacy wins ties. */
function kind(nft: string, legacy: string): string {
  const count = (dir: string) =>
    `$( { timeout 5 "${dir}/iptables-save"; timeout 5 "${dir}/ip6tables-save"; } 2>/dev/null | grep -c '^-' || :)`;
  return `legacyRules=${count(legacy)}; nftRules=${count(nft)}
if [ "\${legacyRules:-0}" -ge "\${nftRules:-0}" ]; then pick=legacy; else pick=nft; fi
why="rules in legacy save output: \${legacyRules:-0}, in nf_tables save output: \${nftRules:-0} (legacy unless nf_tables has more)"`;
}

const forcedLegacy = () =>
  `pick=legacy; why="the image pins iptables-legacy (update-alternatives --set iptables .../iptables-legacy)"`;

/** The script of one selector for a build; it prints `pick=` and `why=` and changes nothing itself. */
export const selectorScript = (selector: IptablesSelector, build: { name: string }): string =>
  selectorScriptIn(selector, { nft: buildBinDir(build, "nft"), legacy: buildBinDir(build, "legacy") });

/** The same, for iptables found in other directories (tests point it at stubs). */
export function selectorScriptIn(selector: IptablesSelector, dirs: { nft: string; legacy: string }): string {
  const body =
    selector === "dind-entrypoint"
      ? dindEntrypoint(dirs.nft, dirs.legacy)
      : selector === "kind"
        ? kind(dirs.nft, dirs.legacy)
        : forcedLegacy();
  return `${body}
echo "pick=$pick"; echo "why=$why"`;
}

/** What a selector printed: its pick and why, or an error naming what was missing. */
export function parseSelectorPick(output: string): { pick: "nft" | "legacy"; why: string } {
  const entries = keyValueEntries(output);
  const pick = entries.get("pick")?.[0]?.trim();
  if (pick !== "nft" && pick !== "legacy")
    throw new Error(`the iptables selector printed no pick: ${output.slice(0, 300)}`);
  return { pick, why: entries.get("why")?.[0]?.trim() ?? "" };
}
