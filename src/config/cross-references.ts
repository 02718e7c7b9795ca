import type { MatrixFile } from "./schema.js";

export interface KnownNames {
  /** scenario name -> its variants ([] when it takes none) */
  scenarios: ReadonlyMap<string, readonly string[]>;
  fixes: ReadonlySet<string>;
}

export interface Problem {
  path: PropertyKey[];
  message: string;
}

/** Checks what a schema cannot: duplicate names and references to things that are not declared. */
export function crossReferenceProblems(matrix: MatrixFile, known: KnownNames): Problem[] {
  const problems: Problem[] = [];
  const declared = {
    iptables: namesOf(matrix.iptables, "iptables", problems),
    engine: namesOf(matrix.engines, "engines", problems),
    daemon: namesOf(matrix.daemon, "daemon", problems),
    topology: namesOf(matrix.topologies, "topologies", problems),
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
    block.scenario.forEach((value, i) => {
      const [scenario = "", variant] = value.split(":", 2);
      const variants = known.scenarios.get(scenario);
      if (!variants) {
        problems.push({ path: ["matrix", b, "scenario", i], message: `unknown scenario '${scenario}'; known: ${[...known.scenarios.keys()].join(", ")}` });
      } else if (variant !== undefined && !variants.includes(variant)) {
        problems.push({
          path: ["matrix", b, "scenario", i],
          message: `scenario '${scenario}' has no variant '${variant}'; variants: ${variants.join(", ") || "(none)"}`,
        });
      }
    });
    block.fixes.forEach((fix, i) => {
      if (!known.fixes.has(fix)) {
        problems.push({ path: ["matrix", b, "fixes", i], message: `unknown fix '${fix}'; known: ${[...known.fixes].join(", ")}` });
      }
    });
  });
  return problems;
}

function namesOf(items: ReadonlyArray<{ name: string }>, section: string, problems: Problem[]): Set<string> {
  const seen = new Set<string>();
  items.forEach((item, i) => {
    if (seen.has(item.name)) problems.push({ path: [section, i, "name"], message: `duplicate name '${item.name}' in ${section}; names must be unique` });
    seen.add(item.name);
  });
  return seen;
}
