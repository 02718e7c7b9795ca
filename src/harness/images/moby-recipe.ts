import type { Engine } from "../../config/schema.js";
import { ENGINE_BUILD_DIR as ENGINE_DIR } from "../../contract/host-contract.js";
import type { ImageRecipe } from "./build-image.js";
import { APT_INSTALL, APT_UPDATE } from "./apt-commands.js";
import { GOPATH_IMPORT_PATH, type DockerProxyOrigin, type MobyLayout } from "./moby-layout.js";

export type MobySourceEngine = Engine & { source: Extract<Engine["source"], { kind: "moby-source" }> };

/** What `dockerd --version` must print for this engine: Docker's own format with the short commit. */
export const expectedDockerdVersion = (engine: MobySourceEngine) =>
  `Docker version ${engine.version}, build ${engine.source.commit.slice(0, 7)}`;

/** Where the source sits in the build container and how Go is told to build it, per layout. */
function layoutSteps(layout: MobyLayout, prefix: string): string[] {
  if (layout === "module")
    return [
      `ENV GOFLAGS=-mod=vendor`,
      // ADD unpacks a local tar archive (xz, gz or plain) into /src/<prefix>.
      `WORKDIR /src/${prefix}`,
      `RUN test -f go.mod || { echo "module layout but no go.mod in ${prefix}"; exit 1; }`,
    ];
  const tree = `/go/src/${GOPATH_IMPORT_PATH}`;
  return [
    // GOPATH mode: the vendor/ tree beside the sources is used as is; -mod flags do not apply.
    `ENV GOPATH=/go GO111MODULE=off`,
    `RUN test ! -f /src/${prefix}/go.mod || { echo "GOPATH layout but ${prefix} has a go.mod"; exit 1; }; ` +
      `mkdir -p ${tree.replace(/\/[^/]+$/, "")} && mv /src/${prefix} ${tree}`,
    `WORKDIR ${tree}`,
  ];
}

/**
 * dockerd and docker-proxy compiled from a moby source archive with Debian's Go, offline
 * (the archive carries vendor/), in the archive's own layout: module mode from 29, GOPATH mode
 * before. The version and commit are stamped the way Docker's release builds do, and the build
 * fails when dockerd prints anything else. The provenance file records the layout.
 */
export function mobyBuildRecipe(
  engine: MobySourceEngine,
  baseTag: string,
  archive: Buffer,
  prefix: string,
  layout: MobyLayout,
  proxy: DockerProxyOrigin = "tree",
): ImageRecipe {
  const { source, version } = engine;
  const short = source.commit.slice(0, 7);
  const goVersion = source.goPackage.replace(/^golang-(.*)-go$/, "$1");
  const want = expectedDockerdVersion(engine);
  const importPath = layout === "module" ? `$(sed -n 's/^module //p' go.mod)` : GOPATH_IMPORT_PATH;
  return {
    repo: "fwcompat/engine",
    tagPrefix: engine.name,
    files: { [source.file]: archive },
    extraKeys: [baseTag],
    dockerfile: [
      `FROM ${baseTag} AS build`,
      `RUN ${APT_UPDATE} && ${APT_INSTALL} ${source.goPackage} && ` +
        (proxy === "suite-package"
          ? `mkdir -p ${ENGINE_DIR} /tmp/dio && cd /tmp/dio && apt-get download docker.io && dpkg-deb -x docker.io_*.deb . && ` +
            `cp usr/sbin/docker-proxy ${ENGINE_DIR}/ && dpkg-deb -f docker.io_*.deb Version > ${ENGINE_DIR}/docker-proxy.version && cd / && rm -rf /tmp/dio && `
          : "") +
        `rm -rf /var/lib/apt/lists/*`,
      `ENV PATH=/usr/lib/go-${goVersion}/bin:$PATH GOTOOLCHAIN=local CGO_ENABLED=0`,
      `ADD ${source.file} /src/`,
      ...layoutSteps(layout, prefix),
      `RUN set -e; mod=${importPath}; ` +
        `flags="-s -w -X $mod/dockerversion.Version=${version} -X $mod/dockerversion.GitCommit=${short}"; ` +
        `for cmd in ${proxy === "tree" ? "dockerd docker-proxy" : "dockerd"}; do echo "go build ./cmd/$cmd (${layout} layout)"; go build -o ${ENGINE_DIR}/$cmd -tags "netgo osusergo static_build" -ldflags "$flags" ./cmd/$cmd; done; ` +
        `${ENGINE_DIR}/dockerd --version | tee /tmp/says; ${ENGINE_DIR}/docker-proxy --version || echo "(this docker-proxy has no --version)"; ` +
        `grep -qxF "${want}" /tmp/says || { echo "engine claims '${want}' but says: $(cat /tmp/says)"; exit 1; }; ` +
        `printf 'tag=%s\\ncommit=%s\\ngo=%s\\nlayout=%s\\narchive=%s sha256 %s\\n' "${source.tag}" "${source.commit}" "$(go env GOVERSION)" "${layout}" "${source.file}" "${source.sha256}" > ${ENGINE_DIR}/provenance; ` +
        (proxy === "suite-package"
          ? `printf 'docker-proxy=Debian ${source.suite} docker.io %s\\n' "$(cat ${ENGINE_DIR}/docker-proxy.version)" >> ${ENGINE_DIR}/provenance; `
          : "") +
        `cat ${ENGINE_DIR}/provenance`,
      `FROM scratch`,
      `COPY --from=build ${ENGINE_DIR} ${ENGINE_DIR}`,
    ].join("\n"),
  };
}

/** The host's engine packages around a compiled dockerd: Debian's containerd, runc and docker CLI (nft comes with the host's firewall packages). */
export function mobyHostInstall(engineImage: string): string[] {
  return [
    `RUN ${APT_UPDATE} && ${APT_INSTALL} containerd runc docker-cli busybox-static && rm -rf /var/lib/apt/lists/*`,
    `COPY --from=${engineImage} ${ENGINE_DIR} ${ENGINE_DIR}`,
    `RUN ln -s ${ENGINE_DIR}/dockerd ${ENGINE_DIR}/docker-proxy /usr/local/bin/`,
  ];
}
