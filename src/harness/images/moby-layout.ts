/**
 * How a moby source tree is built. From 29 on moby is a Go module (`go.mod`, module
 * `github.com/moby/moby/v2`); before, it has no `go.mod` (23.0-28.x carry `vendor.mod`, 20.10
 * `vendor.conf`) and builds in GOPATH mode with the tree at `$GOPATH/src/github.com/docker/docker`.
 */
export type MobyLayout = "module" | "gopath";

/** The import path of a moby tree built in GOPATH mode (its `dockerversion` package is stamped under it). */
export const GOPATH_IMPORT_PATH = "github.com/docker/docker";

export interface MobyTree {
  layout: MobyLayout;
  /** cmd/docker-proxy is in the tree (from 23.0; 20.10 built it from the separate libnetwork repository) */
  dockerProxy: boolean;
}

/** What an archive's file list says about the tree under `prefix`. */
export function mobyTreeOf(paths: readonly string[], prefix: string): MobyTree {
  const proxyDir = `${prefix}/cmd/docker-proxy/`;
  return {
    layout: paths.includes(`${prefix}/go.mod`) ? "module" : "gopath",
    // directory entries are optional in a tar: any file under it counts
    dockerProxy: paths.some((p) => p.startsWith(proxyDir) && p !== proxyDir),
  };
}

/**
 * Where the engine's docker-proxy comes from: compiled from the tree's cmd/docker-proxy (23.0 on),
 * else (20.10, which built it from the separate libnetwork repository) the build suite's Debian
 * docker.io package, whose docker-proxy is libnetwork's: bookworm's is that of 20.10.24 itself.
 */
export type DockerProxyOrigin = "tree" | "suite-package";
export const dockerProxyOrigin = (tree: MobyTree): DockerProxyOrigin => (tree.dockerProxy ? "tree" : "suite-package");
