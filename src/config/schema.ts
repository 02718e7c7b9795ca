import { z } from "zod";
import { ATTEMPTS_PER_CORE } from "./concurrency.js";
import { MAX_NODES, NODE_NETWORKS } from "../contract/cluster.js";

const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._+-]*$/, "use letters, digits and . _ + - only");
const sha256 = z.string().regex(/^[0-9a-f]{64}$/, "a sha256 is 64 lowercase hex digits");
const debianSuite = z.enum(["bookworm", "trixie", "sid"]);

/** Where an iptables build comes from. Every variant pins what it is, so nothing is relabelled. */
export const iptablesSourceSchema = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("debian"),
    suite: debianSuite,
    /** exact Debian package version, e.g. 1.8.11-2 */
    version: z.string().min(1),
  }),
  z.strictObject({
    kind: z.literal("tarball"),
    /** file name looked up in the tarball directory (settings.tarballDir) */
    file: z.string().regex(/^[^/]+\.tar\.(xz|bz2|gz)$/, "a tarball file name such as iptables-1.8.10.tar.xz"),
    sha256,
    /** path of the same file on the Debian mirror read from the machine's apt sources */
    mirrorPath: z.string().optional(),
    /** other places to download from (checked by sha256); see settings.allowDownloads */
    urls: z.array(z.url()).default([]),
  }),
  z.strictObject({
    /** a commit of an upstream git repository, built with ./autogen.sh and configure */
    kind: z.literal("git"),
    /**
     * a git URL (cloned only with settings.allowDownloads), a path to a repository or bundle,
     * or the file name of a bundle in the local source directory (settings.sourceDir / FWCOMPAT_SOURCE_DIR)
     */
    repository: z.string().min(1),
    /** tag, branch or commit, e.g. v1.8.10 */
    ref: z.string().min(1),
    /** the full commit id the ref must resolve to; anything else fails the build */
    commit: z.string().regex(/^[0-9a-f]{40}$/, "a full 40-digit commit id"),
    /**
     * upstream commits applied on top, in order (`git cherry-pick -x`), as a distribution
     * patches a release: each must apply cleanly, and the build records them in its evidence
     */
    cherryPicks: z.array(z.string().regex(/^[0-9a-f]{40}$/, "a full 40-digit commit id")).optional(),
  }),
  z.strictObject({
    /**
     * a binary iptables .deb of any Debian-derived archive (Ubuntu's, a PPA's), by URL and
     * sha256, unpacked under the build's prefix the way Debian suite builds are
     */
    kind: z.literal("deb"),
    url: z.url(),
    sha256,
    /** the .debs of the same build's own libraries (libxtables12, libip4tc2, libip6tc2), unpacked beside it */
    libraries: z.array(z.strictObject({ url: z.url(), sha256 })).default([]),
  }),
  z.strictObject({
    /**
     * the iptables the host image itself installs (an own host image's userland, or the Debian
     * suite's of a catalogue host), found where that userland keeps it (/usr/sbin or /sbin,
     * update-alternatives, iptables-nft / iptables-legacy); its version is checked like any build's
     */
    kind: z.literal("system"),
  }),
]);

export const iptablesBuildSchema = z.strictObject({
  name,
  /** the upstream or package version this build claims to be; checked against `iptables --version` */
  version: z.string().regex(/^\d+\.\d+\.\d+(-[0-9A-Za-z.+~]+)?$/, "a version such as 1.8.11 or 1.8.11-2"),
  source: iptablesSourceSchema,
  /** other sources of the same release, tried in order when `source` cannot be had (e.g. the release tarball) */
  alternatives: z.array(iptablesSourceSchema).default([]),
});

export const engineSourceSchema = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("debian"),
    suite: debianSuite,
    /** Debian version prefix of docker.io, e.g. 26.1.5 */
    version: z.string().min(1),
  }),
  z.strictObject({
    kind: z.literal("static"),
    url: z.url(),
    sha256,
    /** Debian suite whose rootfs hosts the static binaries */
    suite: debianSuite.default("trixie"),
  }),
  z.strictObject({
    /**
     * dockerd and docker-proxy compiled from a `git archive` of the moby repository, any tag from
     * 20.10 to 29.x (GOPATH build before 29, Go module from 29); a tree without cmd/docker-proxy
     * (20.10) takes docker-proxy from the suite's docker.io package (bookworm's for 20.10, with
     * goPackage golang-1.19-go)
     */
    kind: z.literal("moby-source"),
    /** file name looked up in the local source directory (settings.sourceDir / FWCOMPAT_SOURCE_DIR) */
    file: z.string().regex(/^[^/]+\.tar(\.(xz|gz))?$/, "a source archive file name such as moby-docker-v29.7.2.tar.xz"),
    sha256,
    /** the commit the archive was made from, as `git get-tar-commit-id` reads it */
    commit: z.string().regex(/^[0-9a-f]{40}$/, "a full 40-digit commit id"),
    /** the upstream tag the commit carries, recorded with the result */
    tag: z.string().min(1),
    /**
     * the git tree id of the archive's files (`git rev-parse <tag>^{tree}` when nothing is
     * export-ignored): with it, an archive downloaded from `urls` is checked by its files, so
     * another compression of the same tree (e.g. a forge's tag archive) passes
     */
    treeId: z
      .string()
      .regex(/^[0-9a-f]{40}$/, "a full 40-digit git tree id")
      .optional(),
    /** other places to download the archive from (checked by treeId, else by sha256); see settings.allowDownloads */
    urls: z.array(z.url()).default([]),
    /** Debian suite of the build container (its Go) and of the host (containerd, runc, docker-cli, nftables) */
    suite: debianSuite.default("sid"),
    /** the Debian Go package the build uses, e.g. golang-1.26-go */
    goPackage: z
      .string()
      .regex(/^golang-\d+\.\d+-go$/, "a Debian Go package such as golang-1.26-go")
      .default("golang-1.26-go"),
  }),
  z.strictObject({
    /**
     * the user's own host image, already on the engine fwcompat talks to (pulled when absent):
     * its userland (dockerd, containerd, runc, the docker CLI, iptables, nft) is what the cells run;
     * fwcompat layers its in-host tools on top
     */
    kind: z.literal("image"),
    image: z.string().regex(/^[a-z0-9][a-z0-9._/:@-]*$/, "an image reference such as my/host:tag"),
  }),
  z.strictObject({
    /** the user's own host image, built from their Dockerfile (then as kind image) */
    kind: z.literal("dockerfile"),
    /** path of the Dockerfile, relative to the file that declares it */
    dockerfile: z.string().min(1),
    /** the build context, relative to the file that declares it (default: the Dockerfile's folder) */
    context: z.string().min(1).optional(),
    buildArgs: z.record(z.string(), z.string()).default({}),
  }),
]);

/** Engine sources that are a whole host image of the user's, with its own userland. */
export const OWN_HOST_KINDS = ["image", "dockerfile"] as const;
export type OwnHostSource = Extract<z.infer<typeof engineSourceSchema>, { kind: (typeof OWN_HOST_KINDS)[number] }>;

export const engineSchema = z.strictObject({
  name,
  version: z.string().regex(/^\d+\.\d+\.\d+$/, "an engine version such as 28.5.2"),
  source: engineSourceSchema,
});

export const daemonOptionSetSchema = z.strictObject({
  name,
  /** merged into the host's /etc/docker/daemon.json */
  options: z.record(z.string(), z.unknown()),
  /**
   * net.ipv4.ip_forward when dockerd starts, for cells of this set (default: settings.ipForwardAtStart).
   * Docker 29's nftables backend does not turn forwarding on itself: its operators set it.
   */
  ipForwardAtStart: z.union([z.literal(0), z.literal(1)]).optional(),
});

export const topologySchema = z.strictObject({
  name,
  /** user-defined bridge networks in addition to the default bridge */
  bridges: z.number().int().min(1, "a topology needs at least 1 user bridge").max(16),
  containersPerBridge: z.number().int().min(1).max(8).default(1),
  /** first published host port; each container gets the next one */
  basePort: z.number().int().min(1, "ports are 1-65535").max(65000, "basePort must leave room below 65535"),
  /**
   * hosts of the cell, each with its own dockerd and container subnets, routed to each other's
   * subnets as a flannel node is (dind lane); the scenario breaks the first, node-a
   */
  nodes: z.number().int().min(1).max(MAX_NODES, `a cell has at most ${MAX_NODES} nodes`).default(1),
  /** how nodes reach each other's container subnets: a VXLAN overlay (flannel's default) or plain routes via the run network (host-gw) */
  nodeNetwork: z.enum(NODE_NETWORKS).default("vxlan"),
});

const axis = <T extends z.ZodTypeAny>(item: T) => z.array(item).min(1, "an axis needs at least one value");

export const matrixBlockSchema = z.strictObject({
  provider: axis(z.enum(["dind", "vagrant"])).default(["dind"]),
  engine: axis(name),
  iptables: axis(name),
  backend: axis(z.enum(["nft", "legacy"])).default(["nft"]),
  daemon: axis(name),
  topology: axis(name),
  /** scenario or scenario:variant, e.g. flush-then-run:filter+nat */
  scenario: axis(z.string().min(1)),
  fixes: z.array(z.string().min(1)).default([]),
});

export const settingsSchema = z.strictObject({
  /** attempts at once; "auto" chooses from the machine's cores and free memory */
  concurrency: z.union([z.number().int().min(1).max(16), z.literal("auto")]).default("auto"),
  probeTimeoutMs: z.number().int().min(200).max(30_000).default(3000),
  /**
   * timeout of a probe expected to be blocked; a timeout counts as blocked only when the
   * host's drop counters moved meanwhile, else it is probed again with probeTimeoutMs
   */
  blockedProbeTimeoutMs: z.number().int().min(200).max(30_000).default(500),
  /** net.ipv4.ip_forward when dockerd starts; a freshly booted host has 0 */
  ipForwardAtStart: z.union([z.literal(0), z.literal(1)]).default(0),
  /** where tarballs are looked up and cached; FWCOMPAT_TARBALL_DIR overrides */
  tarballDir: z.string().optional(),
  /** a local source directory (upstream source archives, e.g. moby); FWCOMPAT_SOURCE_DIR overrides */
  sourceDir: z.string().optional(),
  /**
   * downloads from URLs other than the apt mirror: auto (default) only of sources pinned by
   * content (sha256, git tree id, commit), true any, false none (local sources and the mirror only)
   */
  allowDownloads: z.union([z.boolean(), z.literal("auto")]).default("auto"),
  /** auto: a local debian:<suite> image if present, else debootstrap, else pull */
  baseImage: z.enum(["auto", "registry", "debootstrap"]).default("auto"),
  /** deadline of an engine compiled from source (the Go build takes minutes on 2 cores) */
  engineBuildTimeoutMs: z.number().int().min(60_000).max(7_200_000).default(2_700_000),
  /** deadline of one attempt (host start to teardown) */
  attemptTimeoutMs: z.number().int().min(10_000).max(3_600_000).default(240_000),
  /** the same for a VM attempt: booting under software emulation takes about a minute */
  vmAttemptTimeoutMs: z.number().int().min(60_000).max(7_200_000).default(1_200_000),
  /** VMs at once (each takes a core and about 1.8 GiB under emulation); auto: from available memory and cores */
  vmConcurrency: z.union([z.literal("auto"), z.number().int().min(1).max(8)]).default("auto"),
  /**
   * dind slots each running VM attempt holds (a VM under software emulation keeps a core busy):
   * 2, a core's worth at two attempts per core, lets the VMs run at full speed while the dind
   * attempts wait; fewer lets the dind attempts go on beside them
   */
  dindSlotsPerVm: z.number().int().min(0).max(16).default(ATTEMPTS_PER_CORE),
  /**
   * the fixes of a cell whose baseline works (the regression check): each on its own fresh host
   * (each); all on one host, one after another, probed after each, and any not ok there tried
   * again on its own host (chained); or not run, said in the results (skip). A cell whose
   * baseline does not work always runs every fix on its own host.
   */
  fixesOnHealthyBaseline: z.enum(["each", "chained", "skip"]).default("each"),
});

const containerName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_.-]*$/, "a container or network name: lowercase letters, digits and . _ -");
const port = z.number().int().min(1, "ports are 1-65535").max(65535, "ports are 1-65535");

/** A command run inside the host with sh -c, as the user would type it there. */
export const hostCommandSchema = z.union([
  z.string().min(1),
  z.strictObject({
    name: z.string().min(1).optional(),
    run: z.string().min(1),
    /** a non-zero exit is recorded, not fatal (by default a failing break step ends the cell in error) */
    mayFail: z.boolean().default(false),
    timeoutSeconds: z.number().int().min(1).max(600).default(60),
  }),
]);

/** A user action retried after every fix; if it starts a published container, that container is probed too. */
export const userActionSchema = z.union([
  z.string().min(1),
  z.strictObject({
    name: z.string().min(1).optional(),
    run: z.string().min(1),
    /** the container the command starts (removed before each retry, probed when it runs) */
    container: containerName.optional(),
    /** its published host port */
    publish: port.optional(),
  }),
]);

/**
 * A scenario written in YAML rather than TypeScript: what to deploy, files to copy into the
 * host, the break (the user's own commands, e.g. their firewall script), user actions to
 * retry after each fix, and what each vantage must see.
 */
export const declarativeScenarioSchema = z.strictObject({
  name,
  description: z.string().default("a scenario from a file"),
  /** workload containers; omitted: the cell's topology (default bridge + N user bridges) */
  deploy: z
    .array(
      z.strictObject({
        name: containerName,
        /** a user network (created if new); omitted: the default bridge */
        network: containerName.optional(),
        publish: port.optional(),
      }),
    )
    .min(1, "deploy needs at least one container (or leave it out to use the cell's topology)")
    .optional(),
  /** files copied into the host before the break, e.g. the user's firewall script */
  files: z
    .array(
      z.strictObject({
        /** path on this machine, relative to the file that declares the scenario */
        from: z.string().min(1),
        to: z.string().regex(/^\/[^\0]*[^/]$/, "an absolute file path inside the host, e.g. /usr/local/sbin/harden.sh"),
        mode: z
          .string()
          .regex(/^0?[0-7]{3}$/, "an octal mode such as 0755")
          .default("0644"),
      }),
    )
    .default([]),
  break: z.strictObject({
    /** after-deploy: under a running dockerd with the workload up; before-dockerd: as a boot-time service, before dockerd starts */
    when: z.enum(["after-deploy", "before-dockerd"]).default("after-deploy"),
    run: z.array(hostCommandSchema).min(1, "break needs at least one command"),
  }),
  userActions: z.array(userActionSchema).default([]),
  /** per published container and vantage; anything not listed must be reachable (cross-network: blocked) */
  expect: z
    .array(
      z.strictObject({
        container: containerName,
        vantage: z
          .union([
            z.enum(["localhost", "host-ip", "external"]),
            z.array(z.enum(["localhost", "host-ip", "external"])).min(1),
          ])
          .optional(),
        expect: z.enum(["reachable", "blocked"]),
        /** for blocked: the policy that must block it, e.g. "harden.sh allows only 8080 from outside" */
        because: z.string().min(1).optional(),
      }),
    )
    .default([]),
});

/** The catalogue shipped with fwcompat (catalogue.yaml): every iptables build and engine it knows, each once. */
export const catalogueFileSchema = z.strictObject({
  version: z.literal(1),
  iptables: z.array(iptablesBuildSchema).default([]),
  engines: z.array(engineSchema).default([]),
});

export const matrixFileSchema = z.strictObject({
  version: z.literal(1),
  settings: settingsSchema.default(() => settingsSchema.parse({})),
  /** catalogue names (e.g. "1.8.11"), or builds of this file's own; one named like a catalogue entry replaces it */
  iptables: axis(z.union([name, iptablesBuildSchema])),
  /** catalogue names (e.g. docker-28.5.2), or engines of this file's own; one named like a catalogue entry replaces it */
  engines: axis(z.union([name, engineSchema])),
  daemon: axis(daemonOptionSetSchema),
  topologies: axis(topologySchema),
  matrix: axis(matrixBlockSchema),
  /** scenarios declared in this file (see declarativeScenarioSchema) */
  scenarios: z.array(declarativeScenarioSchema).default([]),
  /** a folder, relative to this file, whose *.yaml files each declare one scenario */
  scenarioDir: z.string().min(1).optional(),
});

export type CatalogueFile = z.infer<typeof catalogueFileSchema>;
/** A matrix file as written: its builds and engines may still be catalogue names. */
export type WrittenMatrixFile = z.infer<typeof matrixFileSchema>;
/** A matrix file with every build and engine a full entry (catalogue names replaced by their entries). */
export type MatrixFile = Omit<WrittenMatrixFile, "iptables" | "engines"> & {
  iptables: IptablesBuild[];
  engines: Engine[];
};
export type Settings = z.infer<typeof settingsSchema>;
export type IptablesBuild = z.infer<typeof iptablesBuildSchema>;
export type IptablesSource = z.infer<typeof iptablesSourceSchema>;
export type GitSource = Extract<IptablesSource, { kind: "git" }>;
export type DebSource = Extract<IptablesSource, { kind: "deb" }>;
export type Engine = z.infer<typeof engineSchema>;
export type DaemonOptionSet = z.infer<typeof daemonOptionSetSchema>;
export type Topology = z.infer<typeof topologySchema>;
export type MatrixBlock = z.infer<typeof matrixBlockSchema>;
export type DeclarativeScenario = z.infer<typeof declarativeScenarioSchema>;
export type HostCommand = z.infer<typeof hostCommandSchema>;
export type UserAction = z.infer<typeof userActionSchema>;

/** A declarative scenario as loaded: its files read (base64) and where it was declared. */
export interface LoadedScenario extends Omit<DeclarativeScenario, "files"> {
  files: Array<DeclarativeScenario["files"][number] & { base64: string }>;
  /** the file that declared it */
  source: string;
}

/** A matrix file with its declarative scenarios loaded (inline ones and those of scenarioDir). */
export type LoadedMatrix = Omit<MatrixFile, "scenarios"> & { scenarios: LoadedScenario[] };
