import { readFileSync } from "node:fs";
import { BaseSequencer, type TestSpecification } from "vitest/node";
import { declaresCompiledEngine } from "./warm-declarations.js";

/**
 * Vitest's order, except that the files declaring a compiled engine's warm-up entry run after
 * the other files of their project: the engines compile (last in the warm-up) while those run,
 * instead of every file waiting for the compiles.
 */
export class CompiledEnginesLast extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const late = new Map(files.map((file) => [file, declaresCompiledEngine(readFileSync(file.moduleId, "utf8"))]));
    return lateLastInTheirGroup(
      await super.sort(files),
      (file) => file.project.name,
      (file) => late.get(file) ?? false,
    );
  }
}

/**
 * The items with each group's late ones moved after its others, the groups where their first item
 * was; the order within the late ones and within the others is kept.
 */
export function lateLastInTheirGroup<T>(
  items: readonly T[],
  groupOf: (item: T) => string,
  isLate: (item: T) => boolean,
): T[] {
  const groupStart = new Map<string, number>();
  items.forEach((item, index) => {
    if (!groupStart.has(groupOf(item))) groupStart.set(groupOf(item), index);
  });
  const key = (item: T, index: number) => [groupStart.get(groupOf(item)) ?? 0, isLate(item) ? 1 : 0, index] as const;
  return items
    .map((item, index) => ({ item, key: key(item, index) }))
    .sort((a, b) => a.key[0] - b.key[0] || a.key[1] - b.key[1] || a.key[2] - b.key[2])
    .map(({ item }) => item);
}
