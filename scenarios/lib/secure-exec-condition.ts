import { IPTABLES_BUILDS_DIR } from "../../src/api/index.js";

/** The lanes a host can come from (a matrix cell's provider). */
export type Lane = "dind" | "vagrant";

/**
 * A host condition under which every iptables that dockerd executes is a *secure exec*: the
 * kernel hands the program AT_SECURE=1 in its auxiliary vector. iptables 1.8.12's libxtables
 * then exits 111 before doing anything, and prints nothing (upstream commit a2a733e9).
 */
export interface Condition {
  /** the condition in words, as the report shows it; a stand-in says so */
  readonly description: string;
  /** the lanes whose hosts can be put under it */
  readonly lanes: readonly Lane[];
  /** true when it only reproduces the kernel's answer by other means than the field case (never presented as the field case) */
  readonly labelledStandIn: boolean;
  /** run as root in the host (under a running dockerd): puts the condition in place for every iptables build the host carries; exits non-zero if it cannot */
  readonly script: string;
  /** run after each restart of dockerd: shows in the kernel's words that the condition holds for the running dockerd (or that none runs) */
  readonly confirm?: string;
}

/** A group no process of the host runs as: an exec that takes it as its effective group changes credentials. */
export const SECURE_EXEC_GROUP = "fwcompat-secure";

/**
 * The kernel sets AT_SECURE for an exec that changes credentials (commoncap: the new effective
 * group differs from the caller's real group). Making each build's multi-binary set-group-id to
 * a group of its own does exactly that for root's dockerd, with no LSM. The group must not be
 * root's: a set-group-id-root binary run by root changes nothing and is no secure exec. The
 * wrappers name the binary the shim runs; a secure exec drops LD_LIBRARY_PATH, so a build whose
 * binary has no RUNPATH of its own (a Debian package's) loads the host's system libraries, and
 * the step says so per binary.
 */
const setgidScript = [
  "set -eu",
  `group=${SECURE_EXEC_GROUP}`,
  `getent group "$group" >/dev/null || groupadd --system "$group"`,
  "found=0",
  `for wrapper in ${IPTABLES_BUILDS_DIR}/*/bin-*/iptables; do`,
  `  [ -f "$wrapper" ] || continue`,
  `  multi=$(sed -n 's/^.* exec \\([^ ]*\\) .*$/\\1/p' "$wrapper")`,
  `  [ -n "$multi" ] && [ -f "$multi" ] || { echo "no binary named in $wrapper" >&2; exit 1; }`,
  `  chgrp "$group" "$multi" && chmod g+s "$multi"`,
  `  prefix=\${wrapper%/bin-*}`,
  `  if grep -qaF "$prefix/lib" "$multi"; then libs="its own libraries (RUNPATH)"; else libs="the host's system libraries (a secure exec drops LD_LIBRARY_PATH)"; fi`,
  `  echo "secure exec: $multi $(stat -c '%A %U:%G' "$multi"), $libs"`,
  "  found=$((found + 1))",
  "done",
  `[ "$found" -gt 0 ] || { echo "no iptables build under ${IPTABLES_BUILDS_DIR}" >&2; exit 1; }`,
].join("\n");

/** The dind lane's deterministic stand-in (this machine's kernel runs no LSM): not the field case. */
export const setgidStandIn: Condition = {
  description:
    "STAND-IN, not the field case: every iptables binary of the host made set-group-id to a group of its own, so the kernel marks each exec by root's dockerd secure (AT_SECURE=1) as an LSM transition does in the field",
  lanes: ["dind", "vagrant"],
  labelledStandIn: true,
  script: setgidScript,
};
