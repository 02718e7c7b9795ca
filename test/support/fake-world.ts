import { HOST_PATHS } from "../../src/contract/host-contract.js";
import type { Cell } from "../../src/config/expand.js";
import { expandMatrix } from "../../src/config/expand.js";
import { parseMatrixText } from "../../src/config/load.js";
import type { LoadedMatrix } from "../../src/config/schema.js";
import type { PreparedImages } from "../../src/harness/images/prepare.js";
import { KNOWN_NAMES } from "../../src/run/registry.js";
import {
  answeredBy,
  containerFor,
  dockerRules,
  probeBatch,
  timedOut,
  type FakeHost,
  type ProbeReply,
  type Rule,
} from "./fake-host.js";

/** Five builds in version order, a 28.x engine, one bridge besides the default one: small, but every fix has a choice to make. */
export const MATRIX_YAML = `
version: 1
iptables:
  - { name: "1.8.9", version: 1.8.9-2, source: { kind: debian, suite: bookworm, version: 1.8.9-2 } }
  - { name: "1.8.10", version: 1.8.10, source: { kind: tarball, file: iptables-1.8.10.tar.xz, sha256: 5cc255c189356e317d070755ce9371eb63a1b783c34498fb8c30264f3cc59c9c } }
  - { name: "1.8.11", version: 1.8.11, source: { kind: tarball, file: iptables-1.8.11.tar.xz, sha256: d87303d55ef8c92bcad4dd3f978b26d272013642b029425775f5bad1009fe7b2 } }
  - { name: "1.8.11-2", version: 1.8.11-2, source: { kind: debian, suite: trixie, version: 1.8.11-2 } }
  - { name: "1.8.13-1", version: 1.8.13-1, source: { kind: debian, suite: sid, version: 1.8.13-1 } }
engines:
  - { name: docker-28.5.2, version: 28.5.2, source: { kind: debian, suite: sid, version: 28.5.2 } }
daemon:
  - { name: proxy-off, options: { userland-proxy: false } }
  - { name: proxy-on, options: { userland-proxy: true } }
topologies:
  - { name: 1-bridge, bridges: 1, basePort: 8080 }
matrix:
  - engine: [docker-28.5.2]
    iptables: ["1.8.11", "1.8.11-2", "1.8.13-1", "1.8.10"]
    daemon: [proxy-off, proxy-on]
    topology: [1-bridge]
    scenario: [curl-timeout]
    fixes: [iptables-upgrade, iptables-downgrade, userland-proxy-on]
`;

export const matrix = (): LoadedMatrix => parseMatrixText(MATRIX_YAML, "test-matrix.yaml", KNOWN_NAMES);

/** Every build is available except 1.8.10, whose tarball this machine does not have. */
export function preparedImages(): PreparedImages {
  const builds: PreparedImages["builds"] = new Map(
    matrix().iptables.map((b) => [b.name, { ok: true as const, tag: `fake/iptables:${b.name}` }]),
  );
  builds.set("1.8.10", {
    ok: false,
    status: "unavailable",
    reason: "iptables-1.8.10.tar.xz is not in the tarball directory",
  });
  return {
    builds,
    hosts: new Map([["docker-28.5.2", { ok: true as const, tag: "fake/host" }]]),
    peerTag: "fake/peer",
    shim: { ok: true as const, tag: "fake/shim" },
    timingsMs: {},
  };
}

export function cellOf(iptables: string, daemon = "proxy-off"): Cell {
  const found = expandMatrix(matrix()).find((c) => c.iptables.name === iptables && c.daemon.name === daemon);
  if (!found) throw new Error(`no test cell ${iptables} ${daemon}`);
  return found;
}

export interface WorldOptions {
  /** the traffic a probe from `vantage` gets while `build` is the host's iptables (default: the -C bug of upstream 1.8.11) */
  traffic?: (probe: { command: string; vantage: "host" | "peer"; host: FakeHost }) => ProbeReply;
  /** extra rules, tried before the world's own */
  rules?: Rule[];
}

/**
 * A host that behaves like the real ones as far as the orchestration can tell: the in-host
 * tools answer in their own formats (version lines, key=value facts, the -C probe), Docker
 * commands deploy containers, and probe batches answer with the traffic `traffic` decides.
 * The default traffic: with upstream 1.8.11 selected, the user bridge's published port times
 * out from outside, and from loopback too unless userland-proxy is on; everything else answers.
 */
export function world(options: WorldOptions = {}): Rule[] {
  const traffic = options.traffic ?? bugOf1811;
  return [
    ...(options.rules ?? []),
    {
      match: /^fwcompat-select-iptables (\S+) (nft|legacy)$/,
      answer: (script, host) => {
        const [, build = "", backend = ""] = /^fwcompat-select-iptables (\S+) (\S+)$/.exec(script) ?? [];
        host.state.set("iptables", build);
        host.state.set("backend", backend);
        return { stdout: `iptables v${build.split("-")[0]} (nf_tables)\n` };
      },
    },
    {
      match: /> \/etc\/docker\/daemon\.json$/,
      answer: (script, host) => {
        host.state.set("userland-proxy", /"userland-proxy": true/.test(script) ? "on" : "off");
        return {};
      },
    },
    { match: /^cat \/proc\/sys\/net\/ipv4\/ip_forward$/, answer: { stdout: "1\n" } },
    {
      match: /^printf '%s=%s\\n' kernel /,
      answer: (_script, host) => {
        const build = host.state.get("iptables") ?? "";
        const facts = {
          kernel: "6.1.0-fake-amd64",
          iptablesVersion: `iptables v${build.split("-")[0]} (nf_tables)`,
          iptablesPackage: `iptables ${build} (fake)`,
          dockerdVersion: "Docker version 28.5.2, build fake",
          checkProbe: build === "1.8.11" ? "buggy" : "correct",
          cgroup: "v1",
        };
        return {
          stdout: Object.entries(facts)
            .map(([k, v]) => `${k}=${v}\n`)
            .join(""),
        };
      },
    },
    {
      match: new RegExp(`^tail -n \\d+ ${HOST_PATHS.dockerdLog.replace(/\./g, "\\.")}`),
      answer: { stdout: 'level=info msg="API listen on /var/run/docker.sock"\n' },
    },
    ...dockerRules(),
    probeBatch((command, host) => traffic({ command, vantage: "host", host })),
  ];
}

/** The peer's rules: its probe batch reaches the host the URL names. */
export function peerWorld(hostAt: (script: string) => FakeHost | undefined, options: WorldOptions = {}): Rule[] {
  const traffic = options.traffic ?? bugOf1811;
  return [
    probeBatch((command, peer) => {
      const host = hostAt(command);
      return host
        ? traffic({ command, vantage: "peer", host })
        : { exit: 7, stderr: `curl: (7) Failed to connect (no such host; peer ${peer.name})` };
    }),
  ];
}

/** Healthy traffic: the published port's own container answers; cross-network probes are blocked. */
export function healthy({ command, host }: { command: string; host: FakeHost }): ProbeReply {
  if (command.includes("nsenter")) return timedOut;
  const container = containerFor(command, host);
  return container ? answeredBy(container) : { exit: 7, stderr: "curl: (7) Connection refused" };
}

export function bugOf1811(probe: { command: string; vantage: "host" | "peer"; host: FakeHost }): ProbeReply {
  const { command, vantage, host } = probe;
  const userBridgePort = /:8081\//.test(command);
  if (host.state.get("iptables") === "1.8.11" && userBridgePort) {
    const loopback = command.includes("127.0.0.1");
    if (vantage === "peer" || (loopback && host.state.get("userland-proxy") !== "on")) return timedOut;
  }
  return healthy(probe);
}
