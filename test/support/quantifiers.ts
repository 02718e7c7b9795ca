import { expect } from "vitest";

// `expect(xs.every(p)).toBe(true)` holds for an empty (or missing) list, so it cannot fail when
// the data it should check never came. These fail then, and name the items that break the rule.

/** Every item satisfies `predicate`, and there is at least one item. */
export function expectEvery<T>(
  items: readonly T[] | undefined,
  predicate: (item: T, index: number) => unknown,
  what = "items",
): void {
  const checked = nonEmpty(items, what, "every");
  expect(
    checked.filter((item, index) => !predicate(item, index)),
    `${what} that do not hold`,
  ).toEqual([]);
}

/** No item satisfies `predicate`, and there is at least one item. */
export function expectNone<T>(
  items: readonly T[] | undefined,
  predicate: (item: T, index: number) => unknown,
  what = "items",
): void {
  const checked = nonEmpty(items, what, "none");
  expect(
    checked.filter((item, index) => predicate(item, index)),
    `${what} that should not hold`,
  ).toEqual([]);
}

function nonEmpty<T>(items: readonly T[] | undefined, what: string, quantifier: string): readonly T[] {
  expect(items, `${what}: missing, so '${quantifier}' would hold vacuously`).toBeDefined();
  expect(items?.length, `${what}: empty, so '${quantifier}' would hold vacuously`).toBeGreaterThan(0);
  return items ?? [];
}
