import { compilesEngine, WARM_ENTRIES } from "./warm-entries.js";

/** The warm-up entries (matrix paths) a test file's source declares: the string arguments of its `warmedImages(...)` calls. */
export function declaredWarmEntries(source: string): string[] {
  return [...source.matchAll(/\bwarmedImages\(([^)]*)\)/g)].flatMap((call) =>
    [...(call[1] ?? "").matchAll(/["'`]([^"'`]+)["'`]/g)].map((literal) => literal[1] ?? ""),
  );
}

/** Whether the source declares an entry whose engine is compiled from source. */
export const declaresCompiledEngine = (source: string): boolean =>
  declaredWarmEntries(source).some((matrix) =>
    WARM_ENTRIES.some((entry) => entry.matrix === matrix && compilesEngine(entry)),
  );
