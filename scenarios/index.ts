import type { Scenario } from "../src/api/index.js";
import { curlTimeout } from "./curl-timeout.js";
import { flushThenRun } from "./flush-then-run.js";
import { ipForwardOff } from "./ip-forward-off.js";

export const SCENARIOS: ReadonlyMap<string, Scenario> = new Map([curlTimeout, flushThenRun, ipForwardOff].map((s) => [s.name, s]));
