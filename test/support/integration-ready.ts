import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { inject } from "vitest";
import { WARM_UP_FILE, type WarmUpState } from "./warm-up-state.js";

// Before each integration file: the images the global setup warms are ready, or the file fails
// with the reason they are not (an unreachable engine, a build that failed).
const stateFile = join(inject("scratchRoot"), WARM_UP_FILE);
const readState = () =>
  readFile(stateFile, "utf8").then(
    (text) => JSON.parse(text) as WarmUpState,
    () => undefined,
  );

let state = await readState();
while (!state) {
  await new Promise((resolve) => setTimeout(resolve, 500));
  state = await readState();
}
if (!state.ok) throw new Error(`the integration tier's images are not ready: ${state.error}`);
