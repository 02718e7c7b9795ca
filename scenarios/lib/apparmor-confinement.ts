import { APPARMOR, IPTABLES_BUILDS_DIR, SYSTEM_XTABLES_MULTI } from "../../src/api/index.js";
import type { Condition } from "./secure-exec-condition.js";

/** AppArmor's name for the profile dockerd runs under, and for the one its iptables calls enter. */
export const DOCKERD_PROFILE = "dockerd";
export const IPTABLES_PROFILE = "dockerd-iptables";
const PROFILE_FILE = APPARMOR.dockerdProfileFile;

/**
 * The profile file, written in the host from what is found there: `$dockerd` (the program
 * `dockerd` resolves to: the profile attaches to it by path at its next exec), `$shim` (what
 * dockerd's `iptables` resolves to) and `$multis` (every iptables multi-binary of the host).
 *
 * dockerd keeps nearly all it had unconfined: every capability, network, mount and signal, all
 * files, and the programs it runs (containerd, docker-proxy, ...) leave the profile unconfined
 * (`ux`), so that only one rule differs from an unconfined dockerd: the iptables multi-binaries
 * run under a profile of their own entered with `Px`, the exec mode that asks for environment
 * scrubbing, which the kernel carries out by handing the program AT_SECURE=1. (`px` would not;
 * AppArmor's own regression test, tests/regression/apparmor/at_secure.sh, checks both.) When
 * `iptables` is a tool that runs the real binary (fwcompat's tracing shim), that tool stays in
 * dockerd's profile (`ix`), so the binary it runs is still dockerd's exec as far as AppArmor is
 * concerned. Exact paths: a rule naming the file outranks the `/** ux` glob.
 */
const writeProfiles = String.raw`{
  echo 'abi <abi/3.0>,'
  echo 'include <tunables/global>'
  echo
  echo "profile ${DOCKERD_PROFILE} $dockerd flags=(attach_disconnected,mediate_deleted) {"
  echo '  capability,'
  echo '  network,'
  echo '  mount,'
  echo '  remount,'
  echo '  umount,'
  echo '  pivot_root,'
  echo '  signal,'
  echo '  ptrace,'
  echo '  unix,'
  echo '  dbus,'
  echo '  change_profile -> **,'
  echo '  /{,**} rwlkm,'
  echo '  /** ux,'
  for multi in $multis; do echo "  \"$multi\" Px -> ${IPTABLES_PROFILE},"; done
  if ! echo "$multis" | grep -qxF "$shim"; then echo "  \"$shim\" ix,"; fi
  echo '}'
  echo
  echo "profile ${IPTABLES_PROFILE} flags=(attach_disconnected,mediate_deleted) {"
  echo '  capability,'
  echo '  network,'
  echo '  signal,'
  echo '  unix,'
  echo '  /{,**} rwlkm,'
  echo '  /** ix,'
  echo '}'
} > ${PROFILE_FILE}`;

/**
 * Run as root in the host under a running dockerd: writes and loads the two profiles, and
 * says what they do. dockerd itself is confined at its next start (AppArmor attaches a profile
 * at exec): the scenario's restart is that start.
 */
const script = [
  "set -eu",
  `[ "$(cat ${APPARMOR.enabledFlag} 2>/dev/null)" = Y ] || { echo "AppArmor is not enabled in this host's kernel" >&2; exit 1; }`,
  `command -v apparmor_parser >/dev/null || { echo "apparmor_parser is missing (Debian's apparmor package)" >&2; exit 1; }`,
  `dockerd=$(readlink -f "$(command -v dockerd)")`,
  `shim=$(readlink -f "$(command -v iptables)")`,
  // the host's own iptables and every build's multi-binary that the build's wrappers run
  `multis=$({ ls ${SYSTEM_XTABLES_MULTI} 2>/dev/null || true; sed -n 's/^.* exec \\([^ ]*\\) .*$/\\1/p' ${IPTABLES_BUILDS_DIR}/*/bin-*/iptables 2>/dev/null || true; } | sort -u)`,
  `[ -n "$multis" ] || { echo "no iptables binary found to confine" >&2; exit 1; }`,
  writeProfiles,
  `apparmor_parser --replace ${PROFILE_FILE}`,
  `for p in ${DOCKERD_PROFILE} ${IPTABLES_PROFILE}; do grep -q "^$p (enforce)$" ${APPARMOR.loadedProfiles} || { echo "profile $p is not loaded" >&2; exit 1; }; done`,
  `echo "AppArmor profile ${DOCKERD_PROFILE} (enforce) loaded from ${PROFILE_FILE}: attaches to $dockerd at its next start"`,
  `echo "iptables run by dockerd enter ${IPTABLES_PROFILE} with Px (environment scrubbed, AT_SECURE=1):"`,
  `echo "$multis" | sed 's/^/  /'`,
].join("\n");

/**
 * After dockerd's restart: which profile it runs under (the kernel's word, from
 * /proc/<pid>/attr/current), or that it is not running.
 */
export const APPARMOR_CONFIRM = [
  `pid=$(pgrep -xo dockerd || true)`,
  `if [ -z "$pid" ]; then echo "dockerd is not running"; else echo "dockerd pid $pid runs under: $(cat /proc/$pid/attr/current)"; fi`,
].join("\n");

/**
 * The field case, in a VM of the vagrant lane (Debian trixie, kernel 6.12 with AppArmor as its
 * LSM): a confinement profile for dockerd, shaped like the one moby once shipped for its daemon
 * (contrib/apparmor: iptables in a profile of its own, entered with environment scrubbing).
 */
export const apparmorConfinement: Condition = {
  description:
    "dockerd confined by an AppArmor profile that runs the iptables programs in a profile of their own with environment scrubbing (Px): the kernel then hands every iptables dockerd runs AT_SECURE=1; the profile allows dockerd everything else. The real LSM case, in a VM",
  lanes: ["vagrant"],
  labelledStandIn: false,
  script,
  confirm: APPARMOR_CONFIRM,
};
