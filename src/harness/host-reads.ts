import type { Host } from "./host.js";
import type { ExecResult } from "../contract/exec.js";
import { callBatch } from "./host-ops.js";
import {
  buildBinDir,
  ENGINE_BUILD_DIR,
  ENGINE_PROVENANCE_KEYS,
  HOST_PATHS,
  NFT_ABSENT,
  NFT_BINARY,
  parseKeyValueLines,
  provenanceFile,
  USERLAND_FACTS_FILE,
} from "../contract/host-contract.js";
import { parseUserlandFacts } from "../contract/userland-facts.js";
import { IPTABLES_SAVE, readSysctl, SYSCTL } from "../contract/host-commands.js";
import { TIMEOUT_MS } from "../contract/timeouts.js";

/** A fact read from a host: the script that prints it and how its output reads. */
export interface HostRead<T> {
  script: string;
  parse: (result: ExecResult) => T;
}

const text: (script: string) => HostRead<string> = (script) => ({ script, parse: (r) => r.stdout });

export const READS = {
  iptablesSave: text(`${IPTABLES_SAVE} 2>&1`),
  /** `nft list ruleset`, read past the tracing shim; NFT_ABSENT on a host without nft */
  nftRuleset: {
    script: `[ -x ${NFT_BINARY} ] || exit 3; ${NFT_BINARY} list ruleset 2>&1`,
    parse: (r) => (r.exitCode === 3 ? NFT_ABSENT : r.stdout),
  } satisfies HostRead<string>,
  /** the shim's record of every iptables call made on the host so far */
  iptablesTrace: text(`cat ${HOST_PATHS.iptablesTrace} 2>/dev/null`),
  dockerdLogTail: text(`tail -n 60 ${HOST_PATHS.dockerdLog} 2>/dev/null`),
  /** whether bridged packets pass iptables in this host: "1", "0", or "absent" when br_netfilter is not loaded */
  bridgeNfCallIptables: {
    script: `${readSysctl(SYSCTL.bridgeNfCallIptables)} 2>/dev/null || echo absent`,
    parse: (r) => r.stdout.trim(),
  } satisfies HostRead<string>,
  /** the firewall backend dockerd reports in force (`docker info` FirewallBackend.Driver, API 1.49+); undefined before that */
  firewallBackend: {
    script: "docker info --format '{{json .FirewallBackend}}' 2>/dev/null",
    parse: (r) => {
      try {
        const driver = (JSON.parse(r.stdout) as { Driver?: unknown } | null)?.Driver;
        return typeof driver === "string" && driver ? driver : undefined;
      } catch {
        return undefined;
      }
    },
  } satisfies HostRead<string | undefined>,
  /** an own host's userland (os-release, tools, packages, alternatives), recorded when its image was built; undefined on other hosts */
  userland: {
    script: `cat ${USERLAND_FACTS_FILE} 2>/dev/null`,
    parse: (r) => (r.exitCode === 0 ? parseUserlandFacts(r.stdout) : undefined),
  } satisfies HostRead<ReturnType<typeof parseUserlandFacts>>,
  /** tag, commit and Go of an engine compiled from source (its build's provenance file); undefined for packaged engines */
  engineBuild: {
    script: `cat ${ENGINE_BUILD_DIR}/provenance 2>/dev/null`,
    parse: (r) =>
      r.exitCode === 0 && r.stdout.trim() ? parseKeyValueLines(r.stdout, ENGINE_PROVENANCE_KEYS) : undefined,
  } satisfies HostRead<Record<(typeof ENGINE_PROVENANCE_KEYS)[number], string> | undefined>,
};

/** The other backend's rules, when it has any: after a backend switch, the old rules still filter packets. */
export const otherBackendRules = (
  build: { name: string },
  backend: "nft" | "legacy",
): HostRead<string | undefined> => ({
  script: `${buildBinDir(build, backend === "nft" ? "legacy" : "nft")}/iptables-save 2>/dev/null`,
  parse: (r) => (/^-A /m.test(r.stdout) ? r.stdout : undefined),
});

/** A build's provenance file (`key=value` lines), as written when the build was made. */
export const buildProvenance = (build: { name: string }): HostRead<string> =>
  text(`cat ${provenanceFile(build)} 2>/dev/null`);

type Results<R extends Record<string, HostRead<unknown>>> = { [K in keyof R]: ReturnType<R[K]["parse"]> };

/** Reads several facts with one call into the host (each read may fail on its own). */
export async function readHost<R extends Record<string, HostRead<unknown>>>(
  host: Host,
  reads: R,
  timeoutMs = TIMEOUT_MS.hostReads,
): Promise<Results<R>> {
  const keys = Object.keys(reads) as Array<keyof R & string>;
  const { call, results } = await callBatch(
    host,
    keys.map((k) => ({ script: (reads[k] as HostRead<unknown>).script, mayFail: true })),
    timeoutMs,
  );
  const missing: ExecResult = { exitCode: -1, stdout: "", stderr: call.stderr, ms: 0 };
  return Object.fromEntries(
    keys.map((k, i) => [k, (reads[k] as HostRead<unknown>).parse(results[i] ?? missing)]),
  ) as Results<R>;
}

/** One fact, one call. */
export async function readOne<T>(host: Host, read: HostRead<T>, timeoutMs = TIMEOUT_MS.hostRead): Promise<T> {
  return read.parse(await host.sh(read.script, timeoutMs));
}

export const iptablesSave = (host: Host) => readOne(host, READS.iptablesSave);
export const firewallBackendInForce = (host: Host) => readOne(host, READS.firewallBackend);
