import { hostname } from "node:os";
import type Docker from "dockerode";
import { HOSTNAME_LABEL, PID_LABEL, ROLE_LABEL, RUN_LABEL, withDeadline } from "./engine.js";
import { iptables, IPTABLES_VERSION } from "../contract/host-commands.js";
import { buildBinDir } from "../contract/host-contract.js";
import { TIMEOUT_MS } from "../contract/timeouts.js";

export interface CheckProbeOutcome {
  /** what fwcompat-cprobe answered, or error when the build could not be asked */
  answer: "buggy" | "correct" | "error";
  /** `iptables --version` of the probed build, or why the probe could not run */
  detail: string;
  ms: number;
}

/**
 * Before the probe proper, `-C` must find a rule identical to one just added: a build whose
 * -C never matches would otherwise pass for correct.
 */
const control = (chain: string) =>
  [
    `${iptables(`-N ${chain}`)} && ${iptables(`-A ${chain} -i fwc-aaa ! -o fwc-aaa -j RETURN`)} || { echo "error: cannot add the control rule"; exit 0; }`,
    `${iptables(`-C ${chain} -i fwc-aaa ! -o fwc-aaa -j RETURN`)} || { echo "error: -C does not find a rule identical to one just added"; exit 0; }`,
  ].join("\n");

/**
 * Asks one build the -C question of the hosts' self-probe (the same fwcompat-cprobe script) in a
 * throwaway container with only NET_ADMIN and no network: the rules live and die in its namespace.
 */
export async function runCheckProbe(
  docker: Docker,
  input: {
    image: string;
    build: { name: string };
    backend: "nft" | "legacy";
    cprobeScript: string;
    runId: string;
    timeoutMs?: number;
  },
): Promise<CheckProbeOutcome> {
  const started = performance.now();
  const script = [
    `export PATH=${buildBinDir(input.build, input.backend)}:$PATH`,
    `${IPTABLES_VERSION} || { echo "error: no ${input.backend} iptables in this build"; exit 0; }`,
    control("FWCOMPAT-CONTROL"),
    input.cprobeScript,
  ].join("\n");
  const container = await docker.createContainer({
    Image: input.image,
    Cmd: ["sh", "-c", script],
    Tty: true,
    Labels: {
      [RUN_LABEL]: input.runId,
      [PID_LABEL]: String(process.pid),
      [HOSTNAME_LABEL]: hostname(),
      [ROLE_LABEL]: "check-probe",
    },
    HostConfig: { CapAdd: ["NET_ADMIN"], NetworkMode: "none" },
  });
  try {
    await container.start();
    const timeoutMs = input.timeoutMs ?? TIMEOUT_MS.checkProbe;
    await withDeadline(container.wait(), timeoutMs, `the -C probe did not finish within ${timeoutMs / 1000}s`);
    const output = (await container.logs({ stdout: true, stderr: true, follow: false }))
      .toString("utf8")
      .replace(/\r/g, "");
    const lines = output
      .split("\n")
      .map((l) => l.trim())
      .filter(Boolean);
    const last = lines.at(-1) ?? "";
    const answer = last === "buggy" || last === "correct" ? last : "error";
    const version = lines.find((l) => l.startsWith("iptables v")) ?? "";
    return {
      answer,
      detail: answer === "error" ? last || "no output" : version,
      ms: Math.round(performance.now() - started),
    };
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
  }
}
