import { declarativeScenario } from "../../scenarios/declarative.js";
import { SCENARIOS } from "../../scenarios/index.js";
import type { Scenario } from "../api/scenario.js";
import type { KnownNames } from "../config/cross-references.js";
import type { LoadedScenario } from "../config/schema.js";
import { FIXES } from "../fixes/index.js";
import { packagedCatalogue } from "./session/catalogue-file.js";

/**
 * Built-in scenario (with variants) and fix names a matrix file may reference, and the shipped
 * catalogue it picks builds and engines from; its own declarative scenarios are added when it loads.
 */
export const KNOWN_NAMES: KnownNames = {
  scenarios: new Map(
    [...SCENARIOS].map(([name, scenario]) => [
      name,
      { variants: scenario.variants, defaultVariant: scenario.defaultVariant, minNodes: scenario.minNodes },
    ]),
  ),
  fixes: new Set(FIXES.keys()),
  get catalogue() {
    return packagedCatalogue();
  },
};

/** Every scenario a run can use: the built-in ones and those the matrix declares in YAML. */
export function scenariosFor(declared: readonly LoadedScenario[]): ReadonlyMap<string, Scenario> {
  return new Map([...SCENARIOS, ...declared.map((def) => [def.name, declarativeScenario(def)] as const)]);
}
