import { SCENARIOS } from "../../scenarios/index.js";
import type { KnownNames } from "../config/cross-references.js";
import { FIXES } from "../fixes/index.js";

/** Scenario (with variants) and fix names a matrix file may reference. */
export const KNOWN_NAMES: KnownNames = {
  scenarios: new Map([...SCENARIOS].map(([name, scenario]) => [name, { variants: scenario.variants, defaultVariant: scenario.defaultVariant }])),
  fixes: new Set(FIXES.keys()),
};
