/**
 * The agreement between fwcompat's TypeScript and the shell tools it installs in every host
 * (host-files/, copied to /usr/local/sbin): the paths both sides read and write, the tools'
 * names and arguments, and the line formats the tools print. Nothing else in src/ spells
 * these strings; test/unit/host-contract.test.ts checks the scripts name only what is here.
 */

/** Where the in-host tools live (first on dockerd's PATH). */
export const HOST_TOOLS_DIR = "/usr/local/sbin";

/** Runtime state shared by the in-host tools and the harness. */
export const HOST_PATHS = {
  runDir: "/run/fwcompat",
  /** the selected build's bin directory (one line); fwcompat-select-iptables writes it, the shim reads it */
  iptablesDir: "/run/fwcompat/iptables-dir",
  /** one line per iptables call, appended by the shim (format: TRACE below) */
  iptablesTrace: "/run/fwcompat/iptables-trace",
  /** prefix of the shim's scratch file for a call's stderr (the shim appends .<pid>) */
  shimErr: "/run/fwcompat/shim-err",
  /** fwcompat-hostd writes HOSTD_READY here once cgroups are prepared */
  hostdReady: "/run/fwcompat/hostd",
  /** "v1" or "v2", written by fwcompat-hostd */
  cgroup: "/run/fwcompat/cgroup",
  /** pid of the dockerd fwcompat-dockerd supervises */
  dockerdPid: "/run/fwcompat/dockerd.pid",
  /** everything that dockerd printed, across restarts */
  dockerdLog: "/var/log/fwcompat-dockerd.log",
  /**
   * a static busybox fwcompat brings into an own host image (whose userland may have none) for
   * the workload image; hosts fwcompat builds use their Debian /bin/busybox
   */
  busybox: "/opt/fwcompat/tools/busybox",
} as const;

/** Static tools fwcompat layers onto an own host image: busybox (HOST_PATHS.busybox) and tini, its init. */
export const OWN_HOST_TOOLS_DIR = "/opt/fwcompat/tools";
export const OWN_HOST_INIT = `${OWN_HOST_TOOLS_DIR}/tini`;

export const HOSTD_READY = "ready";

/** In-host files that only scripts the harness sends write and read (no tool of host-files/ knows them). */
export const HARNESS_SCRATCH = {
  /** "name pid" per target container, written by the probes' pin step so a probe from a container needs no `docker inspect` of its own */
  containerPids: "/run/fwcompat/container-pids",
} as const;

/** Environment variables that point the shim elsewhere (only tests set them; hosts use the defaults above). */
export const SHIM_ENV = {
  iptablesDir: "FWCOMPAT_IPTABLES_DIR_FILE",
  iptablesTrace: "FWCOMPAT_IPTABLES_TRACE",
  shimErr: "FWCOMPAT_SHIM_ERR",
  /** the directory holding the real nft (default /usr/sbin, where Debian's nftables puts it) */
  nftDir: "FWCOMPAT_NFT_DIR",
} as const;

/** The directories fwcompat-userland looks for a userland's tools in (default: /usr/sbin /sbin /usr/bin /bin /usr/local/bin); only tests set it. */
export const USERLAND_DIRS_ENV = "FWCOMPAT_USERLAND_DIRS";

/** Debian's nft, which the shim runs for `nft` calls (hosts of every engine carry nftables). */
export const NFT_BINARY = "/usr/sbin/nft";
/** What the harness records for `nft list ruleset` on a host without nft (e.g. the no-nft scenario's), instead of failing. */
export const NFT_ABSENT = `nft absent: this host has no ${NFT_BINARY}, so its nftables rules cannot be listed`;

/**
 * An engine compiled from source (dockerd, docker-proxy) lives here, with a `provenance`
 * file of `tag=`, `commit=`, `go=` and `archive=` lines written by its build.
 */
export const ENGINE_BUILD_DIR = "/opt/fwcompat/engine";
export const ENGINE_PROVENANCE_KEYS = ["tag", "commit", "go"] as const;

/** Where the iptables builds live inside a host: one directory per build, with bin-nft/ and bin-legacy/. */
export const IPTABLES_BUILDS_DIR = "/opt/fwcompat/iptables";
export const buildPrefix = (build: { name: string }) => `${IPTABLES_BUILDS_DIR}/${build.name}`;
export const buildBinDir = (build: { name: string }, backend: "nft" | "legacy") =>
  `${buildPrefix(build)}/bin-${backend}`;
/** `package=<what>` and `source=<kind>` lines, written when the build is made. */
export const provenanceFile = (build: { name: string }) => `${buildPrefix(build)}/provenance`;

/** The in-host tools, by the name each has in host-files/ (the shim's source there is SHIM_SOURCE). */
export const HOST_TOOLS = {
  hostd: "fwcompat-hostd",
  selectIptables: "fwcompat-select-iptables",
  iptablesShim: "fwcompat-iptables-shim",
  dockerd: "fwcompat-dockerd",
  checkProbe: "fwcompat-cprobe",
  workloadImage: "fwcompat-workload-image",
  makeWrappers: "fwcompat-make-wrappers",
  userland: "fwcompat-userland",
} as const;

/** An own host's `fwcompat-userland facts`, recorded when its image is built (the userland does not change). */
export const USERLAND_FACTS_FILE = "/opt/fwcompat/userland-facts";

/** What fwcompat-userland prints: its subcommands and line formats. */
export const USERLAND = {
  check: `${HOST_TOOLS.userland} check`,
  facts: `${HOST_TOOLS.userland} facts`,
  wrap: (prefix: string, version: string) => `${HOST_TOOLS.userland} wrap ${prefix} ${version}`,
  /** `facts` lines: os=, tool=<name>|<path>|<resolved>|<version>|<package>, alternative=<name>|<target> */
  factFields: ["tool", "path", "resolved", "version", "package"] as const,
  /** a `check` line naming one absent tool */
  missingPrefix: "missing: ",
  /** `check` exits with this when a tool is missing */
  missingExit: 2,
} as const;

/** The shim is C (this file in host-files/), compiled at image build time; the other tools are scripts. */
export const SHIM_SOURCE = `${HOST_TOOLS.iptablesShim}.c`;

/** The image fwcompat-workload-image imports into the host's engine. */
export const WORKLOAD_IMAGE = "fwcompat/workload";
/** Each workload container answers GET on this path with its own hostname. */
export const WORKLOAD_ID_PATH = "/cgi-bin/id";

export const selectIptablesCommand = (build: { name: string }, backend: "nft" | "legacy") =>
  `${HOST_TOOLS.selectIptables} ${build.name} ${backend}`;
export const dockerdCommand = (action: "start" | "stop" | "restart") => `${HOST_TOOLS.dockerd} ${action}`;

/**
 * The shim's trace: one line per call, fields in this order separated by TAB. Times are
 * epoch seconds with microseconds; every argument is followed by ARG_END; newlines in
 * stderr become STDERR_NEWLINE and tabs a space.
 */
export const TRACE = {
  fields: ["start", "end", "exitCode", "caller", "buildDir", "tool", "args", "stderr"] as const,
  /** after them, for `nft -f -` only: the script the call read from stdin (newlines as STDERR_NEWLINE) */
  stdinField: "stdin",
  separator: "\t",
  argEnd: "\x1f",
  stderrNewline: "\x1e",
} as const;
export type TraceField = (typeof TRACE.fields)[number];

/** The fields of one trace line by name (and the nft script, when there is one), or undefined for a line that is not one. */
export function splitTraceLine(line: string): (Record<TraceField, string> & { stdin?: string }) | undefined {
  const values = line.split(TRACE.separator);
  if (values.length < TRACE.fields.length) return undefined;
  const fields = Object.fromEntries(TRACE.fields.map((field, i) => [field, values[i] ?? ""])) as Record<
    TraceField,
    string
  >;
  const stdin = values[TRACE.fields.length];
  return stdin ? { ...fields, stdin } : fields;
}

/**
 * A probe batch prints one line per probe: the fields below separated by PROBE_OUTPUT.separator
 * (which the script removes from body and stderr, as it does newlines).
 */
export const PROBE_OUTPUT = {
  fields: ["index", "exit", "ms", "body", "stderr"] as const,
  separator: "|",
} as const;
export type ProbeField = (typeof PROBE_OUTPUT.fields)[number];

/** The printf format of one probe line, for the script that prints it. */
export const probeLineFormat = () => `${PROBE_OUTPUT.fields.map(() => "%s").join(PROBE_OUTPUT.separator)}\\n`;

export function splitProbeLine(line: string): Record<ProbeField, string> | undefined {
  const values = line.split(PROBE_OUTPUT.separator);
  if (values.length < PROBE_OUTPUT.fields.length) return undefined;
  return Object.fromEntries(PROBE_OUTPUT.fields.map((field, i) => [field, values[i] ?? ""])) as Record<
    ProbeField,
    string
  >;
}

/** What fwcompat-cprobe prints: "buggy" (-C matched a rule with other interfaces), "correct", or "error: <why>". */
export type CheckProbeAnswer = "buggy" | "correct" | "error";
export function parseCheckProbe(output: string): CheckProbeAnswer {
  const answer = output.trim();
  return answer === "buggy" || answer === "correct" ? answer : "error";
}

/** Facts a prepared host reports about itself, one `key=value` line each. */
export const HOST_FACT_KEYS = [
  "kernel",
  "iptablesVersion",
  "iptablesPackage",
  "dockerdVersion",
  "checkProbe",
  "cgroup",
] as const;
export type HostFactKey = (typeof HOST_FACT_KEYS)[number];

/** A script that prints every host fact as `key=value` (a value's own newlines become spaces). */
export function hostFactsScript(build: { name: string }): string {
  const commands: Record<HostFactKey, string> = {
    kernel: "uname -r",
    iptablesVersion: "iptables --version",
    iptablesPackage: `sed -n 's/^package=//p' ${provenanceFile(build)}`,
    dockerdVersion: "dockerd --version",
    checkProbe: HOST_TOOLS.checkProbe,
    cgroup: `cat ${HOST_PATHS.cgroup} 2>/dev/null || { test -e /sys/fs/cgroup/cgroup.controllers && echo v2 || echo v1; }`,
  };
  return HOST_FACT_KEYS.map(
    (key) => `printf '%s=%s\\n' ${key} "$( { ${commands[key]}; } | tr '\\n' ' ' | sed 's/ *$//')"`,
  ).join("\n");
}

export class HostFactsError extends Error {}

/** Every `key=value` line of a text, by key, in order (a key may repeat; lines without `=` are skipped). */
export function keyValueEntries(text: string): Map<string, string[]> {
  const entries = new Map<string, string[]>();
  for (const line of text.split("\n")) {
    const eq = line.indexOf("=");
    if (eq < 1) continue;
    const key = line.slice(0, eq);
    entries.set(key, [...(entries.get(key) ?? []), line.slice(eq + 1)]);
  }
  return entries;
}

/**
 * Reads `key=value` lines by key. Every expected key must appear once with a non-empty value:
 * a missing, empty or repeated key is an error naming it, never a silent shift of the others.
 */
export function parseKeyValueLines<K extends string>(text: string, keys: readonly K[]): Record<K, string> {
  const found = new Map([...keyValueEntries(text)].map(([key, values]) => [key, values.map((v) => v.trim())]));
  const problems = keys.flatMap((key) => {
    const values = found.get(key);
    if (!values) return [`${key} missing`];
    if (values.length > 1) return [`${key} given ${values.length} times`];
    return values[0] === "" ? [`${key} empty`] : [];
  });
  if (problems.length > 0) throw new HostFactsError(`host facts: ${problems.join(", ")}`);
  return Object.fromEntries(keys.map((key) => [key, found.get(key)?.[0] ?? ""])) as Record<K, string>;
}
