import type { Engine, IptablesBuild } from "../../config/schema.js";
import {
  buildPrefix,
  HOST_PATHS,
  HOST_TOOLS,
  HOST_TOOLS_DIR,
  provenanceFile,
  USERLAND,
} from "../../contract/host-contract.js";
import type { ImageRecipe } from "./build-image.js";
import { APT_INSTALL, APT_UPDATE } from "./apt-commands.js";
import { mobyHostInstall } from "./moby-recipe.js";
import { SHIM_BINARY } from "./shim-image.js";

const shellQuote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

export const upstreamVersion = (version: string) => version.split("-")[0] ?? version;

/** Fails the build when the binary does not say the version the matrix claims: nothing is ever relabelled. */
const versionGate = (build: IptablesBuild) =>
  `grep -q "iptables v${upstreamVersion(build.version)} " /tmp/versions || { echo "build claims ${build.version} but says: $(cat /tmp/versions)"; exit 1; }`;

const finalStage = (build: IptablesBuild) => [
  `FROM scratch`,
  `COPY --from=build ${buildPrefix(build)} ${buildPrefix(build)}`,
];

/**
 * The shell that unpacks every .deb of the current directory under the build's prefix, writes
 * the wrappers and fails unless the binaries say the claimed version: shared by Debian suite
 * builds and .debs by URL.
 */
function unpackDebs(build: IptablesBuild): string {
  const prefix = buildPrefix(build);
  const lib = `${prefix}/root/usr/lib/x86_64-linux-gnu`;
  return (
    `mkdir -p ${prefix}/root; for deb in *.deb; do dpkg-deb -x "$deb" ${prefix}/root; done; ` +
    `${HOST_TOOLS.makeWrappers} ${prefix} ${prefix}/root/usr/sbin ${lib} ${lib}/xtables | tee /tmp/versions; ${versionGate(build)}; `
  );
}

/** A Debian .deb build: iptables and its libraries of that suite, unpacked side by side under a prefix. */
export function debianIptablesRecipe(
  build: IptablesBuild & { source: { kind: "debian" } },
  baseTag: string,
  mirror: string,
  wrappers: string,
): ImageRecipe {
  const { suite, version } = build.source;
  return {
    repo: "fwcompat/iptables",
    tagPrefix: build.name,
    files: { [`bin/${HOST_TOOLS.makeWrappers}`]: wrappers },
    extraKeys: [baseTag, mirror],
    dockerfile: [
      `FROM ${baseTag} AS build`,
      `COPY bin/${HOST_TOOLS.makeWrappers} ${HOST_TOOLS_DIR}/`,
      `RUN set -e; echo "deb ${mirror} ${suite} main" > /etc/apt/sources.list.d/fwcompat-${suite}.list; ${APT_UPDATE}; ` +
        `mkdir -p /tmp/debs && cd /tmp/debs; ` +
        `libs=$(apt-cache depends iptables=${version} | awk '/Depends:/ {print $2}' | grep '^lib' | grep -v '^libc6$' | sed 's|$|/${suite}|'); ` +
        `apt-get download iptables=${version} $libs; ls; ` +
        unpackDebs(build) +
        `printf 'package=iptables %s (Debian %s)\\nsource=debian\\n' "${version}" "${suite}" > ${provenanceFile(build)}; ` +
        `rm -rf /var/lib/apt/lists/* /tmp/debs`,
      ...finalStage(build),
    ].join("\n"),
  };
}

/** .debs fetched by URL (checked by sha256 before this): unpacked like a Debian suite build, provenance naming each. */
export function debIptablesRecipe(
  build: IptablesBuild & { source: { kind: "deb" } },
  baseTag: string,
  debs: ReadonlyArray<{ file: string; data: Buffer; url: string; sha256: string }>,
  wrappers: string,
): ImageRecipe {
  const files: Record<string, string | Buffer> = { [`bin/${HOST_TOOLS.makeWrappers}`]: wrappers };
  for (const deb of debs) files[`debs/${deb.file}`] = deb.data;
  const lines = [
    `package=iptables ${build.version} (.deb by URL)`,
    ...debs.map((deb) => `deb=${deb.url} sha256 ${deb.sha256}`),
    "source=deb",
  ];
  return {
    repo: "fwcompat/iptables",
    tagPrefix: build.name,
    files,
    extraKeys: [baseTag],
    dockerfile: [
      `FROM ${baseTag} AS build`,
      `COPY bin/${HOST_TOOLS.makeWrappers} ${HOST_TOOLS_DIR}/`,
      `COPY debs/ /tmp/debs/`,
      `RUN set -e; cd /tmp/debs; ` +
        unpackDebs(build) +
        `printf '%s\\n' ${lines.map(shellQuote).join(" ")} > ${provenanceFile(build)}; ` +
        `rm -rf /tmp/debs`,
      ...finalStage(build),
    ].join("\n"),
  };
}

/** An upstream tarball build: configured and installed under its own prefix (legacy and nft multi-binaries). */
export function tarballIptablesRecipe(
  build: IptablesBuild & { source: { kind: "tarball" } },
  baseTag: string,
  tarball: Buffer,
  wrappers: string,
): ImageRecipe {
  const prefix = buildPrefix(build);
  return {
    repo: "fwcompat/iptables",
    tagPrefix: build.name,
    files: { [`bin/${HOST_TOOLS.makeWrappers}`]: wrappers, "iptables.tar": tarball },
    extraKeys: [baseTag],
    dockerfile: [
      `FROM ${baseTag} AS build`,
      `RUN ${APT_UPDATE} && ${APT_INSTALL} build-essential pkg-config libmnl-dev libnftnl-dev xz-utils bzip2 && rm -rf /var/lib/apt/lists/*`,
      `COPY bin/${HOST_TOOLS.makeWrappers} ${HOST_TOOLS_DIR}/`,
      `COPY iptables.tar /tmp/iptables.tar`,
      `RUN set -e; mkdir /src && tar -C /src --strip-components=1 -xf /tmp/iptables.tar && cd /src && ` +
        `./configure --prefix=${prefix} >/dev/null && make -j"$(nproc)" >/dev/null && make install >/dev/null && ` +
        `${HOST_TOOLS.makeWrappers} ${prefix} ${prefix}/sbin ${prefix}/lib ${prefix}/lib/xtables | tee /tmp/versions && ${versionGate(build)} && ` +
        `printf 'package=upstream tarball %s sha256 %s\\nsource=tarball\\n' "${build.source.file}" "${build.source.sha256}" > ${provenanceFile(build)}`,
      ...finalStage(build),
    ].join("\n"),
  };
}

/**
 * Host firewall tools the scenarios drive, as Debian ships them: `nft` (nftables.service
 * reloads), ufw, and firewalld with the D-Bus system bus it talks over. Installed, never
 * started: a scenario starts one when it needs it.
 */
export const HOST_FIREWALL_PACKAGES = ["nftables", "ufw", "firewalld", "dbus"];

/** A disposable host: the engine, every available iptables build, and fwcompat's in-host tools. */
export function hostRecipe(
  engine: Engine,
  baseTag: string,
  builds: ReadonlyArray<{ build: IptablesBuild; tag: string }>,
  tools: { scripts: Record<string, string>; shimTag: string },
  engineInput: { tarball?: Buffer; image?: string } = {},
  /** `system` builds: the host's own iptables (the suite's), wrapped like a build */
  systemBuilds: readonly IptablesBuild[] = [],
): ImageRecipe {
  const files: Record<string, string | Buffer> = { ...tools.scripts };
  const engineTarball = engineInput.tarball;
  const install =
    engine.source.kind === "moby-source"
      ? mobyHostInstall(engineInput.image ?? "")
      : engine.source.kind === "debian"
        ? [
            `RUN ${APT_UPDATE} && cli=$(apt-cache show docker-cli >/dev/null 2>&1 && echo "docker-cli=${engine.source.version}*"); ` +
              `${APT_INSTALL} "docker.io=${engine.source.version}*" $cli busybox-static && rm -rf /var/lib/apt/lists/*`,
          ]
        : [
            `RUN ${APT_UPDATE} && ${APT_INSTALL} busybox-static && rm -rf /var/lib/apt/lists/*`,
            `ADD docker.tgz /opt/`,
            `RUN cp /opt/docker/* /usr/local/bin/ && rm -rf /opt/docker`,
          ];
  if (engineTarball) files["docker.tgz"] = engineTarball;
  return {
    repo: "fwcompat/host",
    tagPrefix: engine.name,
    files,
    extraKeys: [baseTag],
    dockerfile: [
      `FROM ${baseTag}`,
      ...install,
      `RUN ${APT_UPDATE} && ${APT_INSTALL} ${HOST_FIREWALL_PACKAGES.join(" ")} && rm -rf /var/lib/apt/lists/*`,
      `RUN dockerd --version | grep -q "version ${engine.version}" || { echo "engine claims ${engine.version} but says: $(dockerd --version)"; exit 1; }`,
      ...builds.map(({ build, tag }) => `COPY --from=${tag} ${buildPrefix(build)} ${buildPrefix(build)}`),
      `COPY bin/ ${HOST_TOOLS_DIR}/`,
      `COPY --from=${tools.shimTag} ${SHIM_BINARY} ${HOST_TOOLS_DIR}/${HOST_TOOLS.iptablesShim}`,
      ...systemBuilds.map((build) => `RUN ${USERLAND.wrap(buildPrefix(build), build.version)}`),
      `RUN mkdir -p /etc/docker ${HOST_PATHS.runDir}`,
      `ENTRYPOINT ["/usr/bin/tini", "--", "${HOST_TOOLS_DIR}/${HOST_TOOLS.hostd}"]`,
    ].join("\n"),
  };
}
