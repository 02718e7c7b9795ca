/**
 * The layers, top to bottom. A module may import from its own layer or any layer below,
 * never from one above; siblings in a layer named below stay apart. `npm run lint` fails
 * on any violation, so a backwards import never lands.
 */
const LAYERS = [
  { name: "cli and the library", paths: ["^src/cli/", "^scripts/", "^src/library/", "^src/index\\.ts$"] },
  { name: "run and report", paths: ["^src/run/", "^src/report/"] },
  { name: "scenarios and fixes", paths: ["^scenarios/", "^src/fixes/"] },
  { name: "scenario/fix API", paths: ["^src/api/"] },
  { name: "harness", paths: ["^src/harness/"] },
  { name: "assertions, results, config", paths: ["^src/assertions/", "^src/results/", "^src/config/"] },
  { name: "host contract and errors", paths: ["^src/contract/", "^src/errors\\.ts$"] },
];

const either = (paths) => `(${paths.join("|")})`;

const upward = LAYERS.flatMap((layer, index) =>
  index === 0
    ? []
    : [
        {
          name: `no-upward-from-${layer.name.replace(/\W+/g, "-")}`,
          comment: `${layer.name} must not import from a layer above it (${LAYERS.slice(0, index)
            .map((l) => l.name)
            .join("; ")})`,
          severity: "error",
          from: { path: either(layer.paths) },
          to: { path: either(LAYERS.slice(0, index).flatMap((l) => l.paths)) },
        },
      ],
);

const apart = (a, b, why) => [
  { name: `${a.name}-not-${b.name}`, comment: why, severity: "error", from: { path: a.path }, to: { path: b.path } },
  { name: `${b.name}-not-${a.name}`, comment: why, severity: "error", from: { path: b.path }, to: { path: a.path } },
];

// eslint-disable-next-line no-undef -- a CommonJS config file, as dependency-cruiser reads it
module.exports = {
  forbidden: [
    { name: "no-circular", severity: "error", from: {}, to: { circular: true } },
    ...upward,
    ...apart(
      { name: "run", path: "^src/run/" },
      { name: "report", path: "^src/report/" },
      "running and reporting only meet in the CLI, through result files",
    ),
    ...apart(
      { name: "cli", path: "^src/cli/" },
      { name: "library", path: "^src/library/" },
      "the command line and the library (DindContainer) are two front doors onto the same run session",
    ),
    {
      name: "cli-runs-through-the-session",
      comment:
        "the CLI parses and prints: it reaches runs only through src/run/session (and the bisect room), never the runner or attempts",
      severity: "error",
      from: { path: "^src/cli/" },
      to: { path: "^src/run/", pathNot: "^src/run/(session/|bisect/(bisect|plan|session-judge)\\.ts$)" },
    },
    {
      name: "cli-reaches-the-engine-through-the-session",
      comment: "the CLI connects, runs and cleans through src/run/session; it imports nothing from the harness",
      severity: "error",
      from: { path: "^src/cli/" },
      to: { path: "^src/harness/" },
    },
    {
      name: "commands-do-not-call-commands",
      comment: "a command reaches a run through the session, not through another command's entry point",
      severity: "error",
      from: { path: "^src/cli/(report|bisect)-command" },
      to: { path: "^src/cli/run-command\\.ts$" },
    },
    {
      name: "one-image-path",
      comment: "a run's images (mirror, base image plan, preparation) are had only through src/run/session/images.ts",
      severity: "error",
      from: { pathNot: "^src/(harness/|run/session/images\\.ts$)" },
      to: { path: "^src/harness/(images/(prepare|base-image)|apt-mirror)\\.ts$", dependencyTypesNot: ["type-only"] },
    },
    ...apart(
      { name: "scenarios", path: "^scenarios/" },
      { name: "fixes", path: "^src/fixes/" },
      "a scenario never knows the fixes tried on it, nor a fix the scenario",
    ),
    {
      name: "scenarios-and-fixes-through-the-api",
      comment: "scenarios and fixes reach the harness and everything below only through src/api",
      severity: "error",
      from: { path: "^(scenarios|src/fixes)/" },
      to: { path: "^src/(harness|assertions|results|config|contract)/" },
    },
    {
      name: "config-is-the-bottom-of-its-layer",
      comment: "the matrix model must not depend on results or assertions",
      severity: "error",
      from: { path: "^src/config/" },
      to: { path: "^src/(assertions|results)/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(node_modules|test|dist)/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".js"] },
  },
};
