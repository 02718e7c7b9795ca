import type { ExecResult } from "../../src/contract/exec.js";
import { frameStepResult, splitStepBatch } from "../../src/contract/step-batch.js";
import type { Host, HostProvider, HostSpec, Peer } from "../../src/harness/host.js";

/**
 * A scripted stand-in for the disposable hosts, for unit tests of the orchestration. Every
 * command gets the answer of the first rule that matches it (else the default), after an
 * optional delay; every command is recorded. Nothing is judged here: probe outcomes are
 * only ever scripted shell output, read by the real parsers.
 */
export interface Answer {
  exitCode?: number;
  stdout?: string;
  stderr?: string;
  /** how long the command "runs"; disposing the host ends it early with an error, as removing a container does */
  delayMs?: number;
}

export interface Rule {
  match: RegExp | ((script: string) => boolean);
  answer: Answer | ((script: string, host: FakeHost) => Answer);
}

const matches = (rule: Rule, script: string) =>
  rule.match instanceof RegExp ? rule.match.test(script) : rule.match(script);

async function answer(
  rules: readonly Rule[],
  fallback: Answer,
  script: string,
  host: FakeHost,
  signal: AbortSignal,
): Promise<ExecResult> {
  const rule = rules.find((r) => matches(r, script));
  const reply = rule ? (typeof rule.answer === "function" ? rule.answer(script, host) : rule.answer) : fallback;
  if (reply.delayMs) {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, reply.delayMs);
      signal.addEventListener("abort", () => {
        clearTimeout(timer);
        reject(new Error(`host ${host.name} was removed while running: ${script.slice(0, 60)}`));
      });
    });
  }
  return {
    exitCode: reply.exitCode ?? 0,
    stdout: reply.stdout ?? "",
    stderr: reply.stderr ?? "",
    ms: reply.delayMs ?? 1,
  };
}

export class FakeHost implements Host {
  readonly provider = "dind" as const;
  readonly mode = "fake";
  /** every script run, in order */
  readonly commands: string[] = [];
  /** what the scripted answers want to remember (e.g. the selected iptables build) */
  readonly state = new Map<string, string>();
  disposed = false;
  private readonly removal = new AbortController();

  constructor(
    readonly name: string,
    readonly address: string,
    readonly spec: HostSpec,
    private readonly rules: readonly Rule[],
    private readonly fallback: Answer,
  ) {}

  async sh(script: string): Promise<ExecResult> {
    if (this.disposed) throw new Error(`host ${this.name} is gone`);
    const batch = splitStepBatch(script);
    if (!batch) {
      this.commands.push(script);
      return answer(this.rules, this.fallback, script, this, this.removal.signal);
    }
    // a batch of steps: each answered by the rules as if it came on its own, framed as the shell would
    let stdout = "";
    for (const [i, step] of batch.steps.entries()) {
      this.commands.push(step.script);
      const result = await answer(this.rules, this.fallback, step.script, this, this.removal.signal);
      stdout += frameStepResult(batch.nonce, i, { ...result, startedAtMs: Date.now() });
      if (result.exitCode !== 0 && !step.mayFail) break;
    }
    return { exitCode: 0, stdout, stderr: "", ms: 1 };
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    this.removal.abort();
  }
}

export interface FakeProviderOptions {
  /** the rules of each host, chosen when it starts */
  host: (spec: HostSpec, index: number) => Rule[];
  /** the external peer's rules; they may look up the host a script addresses with hostAt() */
  peer?: Rule[];
  fallback?: Answer;
  /** make start() or peer() fail, as an engine might */
  startError?: Error;
  peerError?: Error;
}

export class FakeProvider implements HostProvider {
  readonly name = "dind" as const;
  readonly hosts: FakeHost[] = [];
  readonly peerCommands: string[] = [];
  closed = false;

  constructor(private readonly options: FakeProviderOptions) {}

  async start(spec: HostSpec): Promise<Host> {
    if (this.options.startError) throw this.options.startError;
    const index = this.hosts.length;
    const host = new FakeHost(
      `fake-${index}`,
      `192.0.2.${10 + index}`,
      spec,
      this.options.host(spec, index),
      this.options.fallback ?? {},
    );
    this.hosts.push(host);
    return host;
  }

  async peer(): Promise<Peer> {
    if (this.options.peerError) throw this.options.peerError;
    const outside = new FakeHost(
      "peer",
      "192.0.2.1",
      { image: "peer", label: "peer" },
      this.options.peer ?? [],
      this.options.fallback ?? {},
    );
    return {
      sh: (script) => {
        this.peerCommands.push(script);
        return outside.sh(script);
      },
    };
  }

  /** the host whose address a script names (for peer rules) */
  hostAt(script: string): FakeHost | undefined {
    return this.hosts.find((h) => new RegExp(`\\b${h.address.replace(/\./g, "\\.")}\\b`).test(script));
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

export interface ProbeReply {
  exit: number;
  body?: string;
  stderr?: string;
  ms?: number;
}

/** The probe commands of a batch script, by index, as the in-host shell would run them. */
export function probeCommands(script: string): Map<number, string> {
  const commands = new Map<number, string>();
  for (const line of script.split("\n")) {
    const found = /^\( s=\$\(date \+%s%N\); b=\$\((.*) 2>\/tmp\/fwc-probe-err\.\$\$\.(\d+)\); rc=/.exec(line);
    if (found?.[1] && found[2]) commands.set(Number(found[2]), found[1]);
  }
  return commands;
}

/**
 * Answers a probe batch the way the shell prints it: one `index|exit|ms|body|stderr` line
 * per probe, from `reply(command, host)`.
 */
export function probeBatch(reply: (command: string, host: FakeHost) => ProbeReply): Rule {
  return {
    match: (script) => probeCommands(script).size > 0,
    answer: (script, host) => ({
      stdout: [...probeCommands(script)]
        .map(([i, command]) => {
          const r = reply(command, host);
          return `${i}|${r.exit}|${r.ms ?? 5}|${r.body ?? ""}|${r.stderr ?? ""}\n`;
        })
        .join(""),
    }),
  };
}

/** The workload's answer: the name of the container the URL's port (or address) belongs to. */
export const answeredBy = (container: string): ProbeReply => ({ exit: 0, body: container });
export const timedOut: ProbeReply = { exit: 28, stderr: "curl: (28) Connection timed out after 3001 milliseconds" };

/**
 * Rules for the Docker commands the scenarios' topology runs (docker run, inspect, network
 * create/inspect): containers get addresses per network, and the host remembers which
 * container publishes which port, so probe replies can name who answers.
 */
export function dockerRules(): Rule[] {
  const networkIndex = (network: string) => (network === "bridge" ? 0 : Number(/(\d+)$/.exec(network)?.[1] ?? 9));
  const subnet = (network: string) =>
    network === "bridge" ? "10.77.0.0/24" : `10.78.${networkIndex(network) - 1}.0/24`;
  return [
    {
      match: /^docker run -d .*--name (\S+) /,
      answer: (script, host) => {
        const [, name = "", network = "bridge"] = /--name (\S+) --hostname \S+(?: --network (\S+))?/.exec(script) ?? [];
        const port = /-p (\d+):80/.exec(script)?.[1] ?? "";
        host.state.set(`network:${name}`, network);
        host.state.set(`port:${port}`, name);
        host.state.set(`ip:${subnet(network).replace(/0\/24$/, "2")}`, name);
        return { stdout: `${name}-id\n` };
      },
    },
    {
      // describeTargets: every container's network, id, address and prefix, then each network's subnet
      match: /^docker inspect -f '\{\{\.Name\}\} \{\{range \$n/,
      answer: (script, host) => {
        const names = /' (.*) > \/tmp\/fwc-targets/.exec(script)?.[1]?.split(" ") ?? [];
        const known = names.filter((name) => host.state.has(`network:${name}`));
        if (known.length < names.length)
          return { exitCode: 1, stderr: `Error: No such object: ${names.find((n) => !known.includes(n))}` };
        const networks = [...new Set(known.map((name) => host.state.get(`network:${name}`) ?? ""))];
        const lines = known.map((name) => {
          const network = host.state.get(`network:${name}`) ?? "";
          return `/${name} ${network} ${network}0123456789abcdef ${subnet(network).replace(/0\/24$/, "2")} 24`;
        });
        return { stdout: [...lines, ...networks.map((n) => `${n} ${subnet(n)}`)].join("\n") + "\n" };
      },
    },
    { match: /^docker network create \S+$/, answer: { stdout: "net-id\n" } },
  ];
}

/** The container a probe command reaches when nothing is broken: by published port, or by address for a probe from a container. */
export function containerFor(command: string, host: FakeHost): string | undefined {
  const port = /:(\d+)\/cgi-bin\/id/.exec(command)?.[1];
  if (port) return host.state.get(`port:${port}`);
  const ip = /http:\/\/([\d.]+)\/cgi-bin\/id/.exec(command)?.[1];
  return ip ? host.state.get(`ip:${ip}`) : undefined;
}
