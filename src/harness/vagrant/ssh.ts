import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { VAGRANT_HOME } from "./box.js";
import { runLocal } from "../local-command.js";

/**
 * The control socket of a VM's ssh master. Unix socket paths must stay under 108 bytes, so it
 * lives in /tmp under the VM's own (unique) name rather than in the VM's directory.
 */
export const controlPath = (vmName: string) => `/tmp/${vmName}.ssh`;

/**
 * What `vagrant ssh-config` would print for the VM (user vagrant, Vagrant's insecure key, which
 * `vagrant up` copies into VAGRANT_HOME with mode 0600), plus the shared connection: every call
 * rides one master connection, so only the first pays the key exchange (1.3-1.9 s under emulation).
 * ControlMaster stays "no" for the calls: the master is started once, on its own, by startMaster
 * (a master forked off an ordinary call would outlive it).
 */
export function sshConfig(options: { address: string; vmName: string; identityFile?: string }): string {
  return [
    "Host default",
    `  HostName ${options.address}`,
    "  User vagrant",
    "  Port 22",
    "  UserKnownHostsFile /dev/null",
    "  StrictHostKeyChecking no",
    "  PasswordAuthentication no",
    `  IdentityFile ${options.identityFile ?? join(VAGRANT_HOME, "insecure_private_key")}`,
    "  IdentitiesOnly yes",
    "  LogLevel ERROR",
    "  ConnectTimeout 30",
    "  ServerAliveInterval 10",
    "  ServerAliveCountMax 6",
    "  ControlMaster no",
    `  ControlPath ${controlPath(options.vmName)}`,
    "",
  ].join("\n");
}

/** Starts the VM's ssh master in the background (it detaches its stdio); a failure throws with ssh's message. */
export async function startMaster(configFile: string): Promise<void> {
  const master = await runLocal(
    "sshMaster",
    "ssh",
    ["-F", configFile, "-o", "ControlMaster=yes", "-o", "ControlPersist=yes", "-N", "-f", "default"],
    { stdin: "ignore" },
  );
  if (master.exitCode !== 0)
    throw new Error(`ssh to the VM failed: ${(master.stderr || master.stdout).trim() || `exit ${master.exitCode}`}`);
}

/** Ends the VM's ssh master if one is listening, and removes a socket a killed master left behind. */
export async function stopMaster(vmName: string): Promise<void> {
  const socket = controlPath(vmName);
  if (!existsSync(socket)) return;
  await runLocal("sshMasterExit", "ssh", ["-o", `ControlPath=${socket}`, "-O", "exit", "default"], { stdin: "ignore" });
  await rm(socket, { force: true });
}
