import {
  dockerdCommand,
  HOST_FILES,
  hostToolPath,
  iptables,
  iptablesFlush,
  mustStep,
  setSysctl,
  SYSCTL,
  SYSTEM_IPTABLES,
  SYSTEM_IPTABLES_TOOLS,
  TIMEOUT_MS,
} from "../../src/api/index.js";
import type { ScenarioContext } from "../../src/api/index.js";

const TABLES = ["filter", "nat", "mangle", "raw"];

/**
 * Runs `boot` where a service that starts before Docker at boot would: dockerd stopped, the
 * firewall as a freshly booted kernel has it (no rules, every policy ACCEPT, forwarding as
 * the matrix's ipForwardAtStart), then dockerd started again. Nothing is deployed yet.
 */
export async function beforeDockerd(ctx: ScenarioContext, boot: () => Promise<unknown>): Promise<void> {
  const reset = iptablesFlush(TABLES);
  const policies = ["INPUT", "FORWARD", "OUTPUT"].map((c) => iptables(`-P ${c} ACCEPT`)).join(" && ");
  await mustStep(ctx.host, ctx.steps, "stop dockerd (boot order)", dockerdCommand("stop"));
  await mustStep(
    ctx.host,
    ctx.steps,
    "firewall as at boot",
    `${reset} && ${policies} && ${setSysctl({ [SYSCTL.ipForward]: ctx.settings.ipForwardAtStart }, { quiet: true })}`,
  );
  await boot();
  await mustStep(ctx.host, ctx.steps, "start dockerd (boot order)", dockerdCommand("start"), TIMEOUT_MS.engineStart);
}

/**
 * Makes the cell's iptables build the system's (Debian's alternatives), as on a real host
 * where ufw, firewalld and dockerd run the same binary: they call /usr/sbin/iptables, which
 * would otherwise be the host suite's own build rather than the one under test.
 */
export async function cellIptablesSystemWide(ctx: ScenarioContext): Promise<void> {
  const links = SYSTEM_IPTABLES_TOOLS.map((t) => `ln -sfn ${hostToolPath(t)} ${HOST_FILES.alternativesDir}/${t}`);
  await mustStep(
    ctx.host,
    ctx.steps,
    "system iptables is the cell's build",
    `${links.join(" && ")} && ${SYSTEM_IPTABLES} --version`,
  );
}

/** Fails the step with a clear message when a tool the scenario drives is not in the host (e.g. a VM box without it). */
export async function requireTools(ctx: ScenarioContext, tools: readonly string[]): Promise<void> {
  await mustStep(
    ctx.host,
    ctx.steps,
    `tools: ${tools.join(", ")}`,
    tools.map((t) => `command -v ${t} >/dev/null || { echo "${t} is not installed in this host"; exit 1; }`).join("; "),
  );
}
