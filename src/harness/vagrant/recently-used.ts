import { stat, utimes } from "node:fs/promises";

/** Marks a cached directory as used now (its modification time is the cache's clock). */
export async function markUsed(dir: string): Promise<void> {
  const now = new Date();
  await utimes(dir, now, now).catch(() => undefined);
}

/** The entries beyond the `keep` most recently used, by the modification time of their directory. */
export async function beyondMostRecent<T>(
  entries: readonly T[],
  dirOf: (entry: T) => string,
  keep: number,
): Promise<T[]> {
  const used = await Promise.all(
    entries.map(async (entry) => ({ entry, at: (await stat(dirOf(entry)).catch(() => undefined))?.mtimeMs ?? 0 })),
  );
  return used
    .sort((a, b) => b.at - a.at)
    .slice(keep)
    .map((u) => u.entry);
}
