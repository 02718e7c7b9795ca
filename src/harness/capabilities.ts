import { readFile } from "node:fs/promises";

/** Linux capability names by bit number (capability.h). */
const CAPABILITIES = [
  "CHOWN",
  "DAC_OVERRIDE",
  "DAC_READ_SEARCH",
  "FOWNER",
  "FSETID",
  "KILL",
  "SETGID",
  "SETUID",
  "SETPCAP",
  "LINUX_IMMUTABLE",
  "NET_BIND_SERVICE",
  "NET_BROADCAST",
  "NET_ADMIN",
  "NET_RAW",
  "IPC_LOCK",
  "IPC_OWNER",
  "SYS_MODULE",
  "SYS_RAWIO",
  "SYS_CHROOT",
  "SYS_PTRACE",
  "SYS_PACCT",
  "SYS_ADMIN",
  "SYS_BOOT",
  "SYS_NICE",
  "SYS_RESOURCE",
  "SYS_TIME",
  "SYS_TTY_CONFIG",
  "MKNOD",
  "LEASE",
  "AUDIT_WRITE",
  "AUDIT_CONTROL",
  "SETFCAP",
  "MAC_OVERRIDE",
  "MAC_ADMIN",
  "SYSLOG",
  "WAKE_ALARM",
  "BLOCK_SUSPEND",
  "AUDIT_READ",
  "PERFMON",
  "BPF",
  "CHECKPOINT_RESTORE",
] as const;

/** Capabilities in Linux's full set that a bounding-set mask (hex, as in /proc/self/status CapBnd) lacks. */
export function missingCapabilities(capBndHex: string): string[] {
  const mask = BigInt(`0x${capBndHex.trim()}`);
  return CAPABILITIES.filter((_, bit) => (mask & (1n << BigInt(bit))) === 0n);
}

/**
 * What a privileged container would need but this sandbox cannot grant. Only meaningful when
 * the engine runs on this machine; a remote DOCKER_HOST gets an empty list and privileged mode.
 */
export async function capabilitiesTheEngineLacks(): Promise<string[]> {
  const host = process.env.DOCKER_HOST;
  if (host && !host.startsWith("unix://")) return [];
  const status = await readFile("/proc/self/status", "utf8").catch(() => "");
  const line = /^CapBnd:\s*([0-9a-f]+)/m.exec(status);
  return line?.[1] ? missingCapabilities(line[1]) : [];
}
