import type { Catalogue } from "./catalogue.js";
import type { MatrixFile } from "./schema.js";

export interface KnownScenario {
  /** [] when it takes none */
  variants: readonly string[];
  /** the variant a bare scenario name stands for (required when it has variants) */
  defaultVariant?: string | undefined;
  /** the nodes a variant needs (default 1) */
  minNodes?: ((variant: string | undefined) => number) | undefined;
}

export interface KnownNames {
  scenarios: ReadonlyMap<string, KnownScenario>;
  fixes: ReadonlySet<string>;
  /** the builds and engines a matrix may pick by name */
  catalogue: Catalogue;
}

export interface Problem {
  path: PropertyKey[];
  message: string;
}

/** Checks what a schema cannot: duplicate names and references to things that are not declared. */
export function crossReferenceProblems(matrix: MatrixFile, known: KnownNames): Problem[] {
  const problems: Problem[] = [];
  const declared = {
    iptables: declaredNames(matrix.iptables, "iptables", problems),
    engine: declaredNames(matrix.engines, "engines", problems),
    daemon: declaredNames(matrix.daemon, "daemon", problems),
    topology: declaredNames(matrix.topologies, "topologies", problems),
  };
  matrix.matrix.forEach((block, b) => {
    for (const axis of ["iptables", "engine", "daemon", "topology"] as const) {
      block[axis].forEach((value, i) => {
        if (!declared[axis].has(value)) {
          problems.push({
            path: ["matrix", b, axis, i],
            message: `unknown ${axis} '${value}'; declared: ${[...declared[axis]].join(", ")}`,
          });
        }
      });
    }
    if (block.provider.includes("vagrant"))
      block.engine.forEach((value, i) => {
        const kind = matrix.engines.find((e) => e.name === value)?.source.kind;
        if (kind === "image" || kind === "dockerfile")
          problems.push({
            path: ["matrix", b, "engine", i],
            message: `engine '${value}' is an own host image (kind ${kind}): it runs on the dind provider only; give this block provider: [dind]`,
          });
      });
    block.scenario.forEach((value, i) => {
      const [scenario = "", variant] = value.split(":", 2);
      const variants = known.scenarios.get(scenario)?.variants;
      if (!variants) {
        problems.push({
          path: ["matrix", b, "scenario", i],
          message: `unknown scenario '${scenario}'; known: ${[...known.scenarios.keys()].join(", ")}`,
        });
      } else if (variant !== undefined && !variants.includes(variant)) {
        problems.push({
          path: ["matrix", b, "scenario", i],
          message: `scenario '${scenario}' has no variant '${variant}'; variants: ${variants.join(", ") || "(none)"}`,
        });
      } else {
        problems.push(...nodeProblems(matrix, block, b, i, known.scenarios.get(scenario), variant));
      }
    });
    block.fixes.forEach((fix, i) => {
      if (!known.fixes.has(fix)) {
        problems.push({
          path: ["matrix", b, "fixes", i],
          message: `unknown fix '${fix}'; known: ${[...known.fixes].join(", ")}`,
        });
      }
    });
  });
  return problems;
}

/** A scenario that needs more nodes than a topology of the block has, and multi-node topologies outside the dind lane. */
function nodeProblems(
  matrix: MatrixFile,
  block: MatrixFile["matrix"][number],
  b: number,
  i: number,
  scenario: KnownScenario | undefined,
  variant: string | undefined,
): Problem[] {
  const needed = scenario?.minNodes?.(variant ?? scenario.defaultVariant) ?? 1;
  const ref = block.scenario[i] ?? "";
  return block.topology.flatMap((name, t) => {
    const topology = matrix.topologies.find((x) => x.name === name);
    if (!topology) return [];
    const problems: Problem[] = [];
    if (topology.nodes < needed)
      problems.push({
        path: ["matrix", b, "topology", t],
        message: `scenario '${ref}' needs ${needed} nodes; topology '${name}' has ${topology.nodes} (set nodes: ${needed})`,
      });
    if (topology.nodes > 1 && block.provider.includes("vagrant") && i === 0)
      problems.push({
        path: ["matrix", b, "provider"],
        message: `topology '${name}' has ${topology.nodes} nodes: multi-node cells run in the dind lane only`,
      });
    return problems;
  });
}

/** The names a section declares; a name declared twice is a problem. */
function declaredNames(items: ReadonlyArray<{ name: string }>, section: string, problems: Problem[]): Set<string> {
  const seen = new Set<string>();
  items.forEach((item, i) => {
    if (seen.has(item.name))
      problems.push({
        path: [section, i, "name"],
        message: `duplicate name '${item.name}' in ${section}; names must be unique`,
      });
    seen.add(item.name);
  });
  return seen;
}

/** A scenario reference naming its variant: a bare name stands for the scenario's default variant. */
export function explicitVariant(ref: string, known: KnownNames): string {
  if (ref.includes(":")) return ref;
  const scenario = known.scenarios.get(ref);
  if (!scenario || scenario.variants.length === 0) return ref;
  if (!scenario.defaultVariant || !scenario.variants.includes(scenario.defaultVariant)) {
    throw new Error(`scenario '${ref}' has variants but no default among them`);
  }
  return `${ref}:${scenario.defaultVariant}`;
}

/**
 * The matrix with every scenario reference naming its variant: a bare `flush-then-run`
 * becomes `flush-then-run:filter` (the scenario's default), so cell ids and labels say which.
 */
export function withExplicitVariants(matrix: MatrixFile, known: KnownNames): MatrixFile {
  return {
    ...matrix,
    matrix: matrix.matrix.map((block) => ({
      ...block,
      scenario: [...new Set(block.scenario.map((ref) => explicitVariant(ref, known)))],
    })),
  };
}
