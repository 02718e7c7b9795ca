/**
 * Binary search for the first commit whose verdict differs from the older endpoint's, over a
 * linear chain: index 0 is the older endpoint, `last` the newer one, both judged already.
 * The invariant: index `lo` has the older endpoint's verdict, `hi` the newer one's.
 */
export interface Search {
  lo: number;
  hi: number;
  /** indices that could not be judged (they did not build), as `git bisect skip` */
  skipped: ReadonlySet<number>;
}

export type Judged = "old" | "new" | "skip";

export const startSearch = (last: number): Search => ({ lo: 0, hi: last, skipped: new Set() });

/** The next index to judge: the one nearest the middle of (lo, hi) not skipped; undefined when none is left. */
export function nextIndex(search: Search): number | undefined {
  const middle = Math.floor((search.lo + search.hi) / 2);
  let best: number | undefined;
  for (let i = search.lo + 1; i < search.hi; i++) {
    if (search.skipped.has(i)) continue;
    if (best === undefined || Math.abs(i - middle) < Math.abs(best - middle)) best = i;
  }
  return best;
}

export function record(search: Search, index: number, judged: Judged): Search {
  if (index <= search.lo || index >= search.hi)
    throw new Error(`index ${index} is outside (${search.lo}, ${search.hi})`);
  if (judged === "old") return { ...search, lo: index };
  if (judged === "new") return { ...search, hi: index };
  return { ...search, skipped: new Set([...search.skipped, index]) };
}

export type SearchOutcome = { kind: "found"; index: number } | { kind: "ambiguous"; indices: number[] };

/** Where the verdict flips, once nothing is left to judge: one index, or (with skips) a run of candidates ending at hi. */
export function outcome(search: Search): SearchOutcome | undefined {
  if (nextIndex(search) !== undefined) return undefined;
  if (search.hi - search.lo === 1) return { kind: "found", index: search.hi };
  return { kind: "ambiguous", indices: Array.from({ length: search.hi - search.lo }, (_, i) => search.lo + 1 + i) };
}

/** Judgements still needed, about: each one halves the commits left between lo and hi. */
export const stepsLeft = (search: Search) =>
  search.hi - search.lo > 1 ? Math.ceil(Math.log2(search.hi - search.lo)) : 0;

/** Commits between lo and hi not yet judged (the flip is at one of them or at hi). */
export const commitsLeft = (search: Search) =>
  Math.max(0, search.hi - search.lo - 1 - [...search.skipped].filter((i) => i > search.lo && i < search.hi).length);
