/**
 * The images the integration tests' matrix runs use, one entry per matrix file (a host image
 * carries every iptables build of its matrix). `iptables` is one build the matrix must have.
 * Builds the tests exercise themselves (from git, from a test's own source directory, bisect
 * steps, VM boxes) are not warmed: building them is what those tests check.
 *
 * An entry with a `sourceFile` compiles its engine from that moby archive (minutes): every
 * integration file waits for the other entries (test/support/integration-ready.ts), and only a
 * file that declares one of these with `warmedImages(...)` (test/support/warmed.ts) waits for it.
 */
export interface WarmEntry {
  matrix: string;
  engine: string;
  iptables: string;
  /** the moby archive (in the shared source directory) the engine is compiled from */
  sourceFile?: string;
}

export const WARM_ENTRIES: readonly WarmEntry[] = [
  { matrix: "test/fixtures/matrices/integration.yaml", engine: "docker-28.5.2", iptables: "1.8.11" },
  { matrix: "test/fixtures/matrices/flush-all.yaml", engine: "docker-28.5.2", iptables: "1.8.11" },
  { matrix: "test/fixtures/matrices/verdicts.yaml", engine: "docker-28.5.2", iptables: "1.8.11" },
  { matrix: "test/fixtures/matrices/flush-forwarding-on.yaml", engine: "docker-28.5.2", iptables: "1.8.11-2" },
  { matrix: "test/fixtures/matrices/host-firewalls.yaml", engine: "docker-28.5.2", iptables: "1.8.11-2" },
  { matrix: "test/fixtures/matrices/broken-daemon.yaml", engine: "docker-28.5.2", iptables: "1.8.11-2" },
  { matrix: "test/fixtures/user-scenario/matrix.yaml", engine: "docker-28.5.2", iptables: "1.8.11-2" },
  // Docker 29 compiled from the moby archive in the shared source directory
  {
    matrix: "test/fixtures/matrices/docker29.yaml",
    engine: "docker-29.7.2",
    iptables: "1.8.11",
    sourceFile: "moby-docker-v29.7.2.tar.xz",
  },
  // the same engine and builds: the image above, found in the cache
  {
    matrix: "test/fixtures/matrices/nft-self-repair.yaml",
    engine: "docker-29.7.2",
    iptables: "1.8.11-2",
    sourceFile: "moby-docker-v29.7.2.tar.xz",
  },
  // Docker 28.0.1 compiled (GOPATH layout) from the v28.0.1 archive in the shared source directory
  {
    matrix: "test/fixtures/matrices/docker28-0-1.yaml",
    engine: "docker-28.0.1",
    iptables: "1.8.11",
    sourceFile: "moby-v28.0.1.tar.xz",
  },
];

export const compilesEngine = (entry: WarmEntry): boolean => entry.sourceFile !== undefined;

/** The order the warm-up builds them in: the quick entries every file waits for, then the compiles. */
export const warmUpOrder = (entries: readonly WarmEntry[] = WARM_ENTRIES): WarmEntry[] => [
  ...entries.filter((entry) => !compilesEngine(entry)),
  ...entries.filter(compilesEngine),
];

/** What every integration file waits for before its first test. */
export const entriesEveryFileWaitsFor = (): string[] =>
  WARM_ENTRIES.filter((entry) => !compilesEngine(entry)).map((entry) => entry.matrix);
