/**
 * Orders versions such as 1.8.9, 1.8.11 and 1.8.11-2: numeric upstream parts first, then
 * the packaging revision, where a plain upstream release sorts before any revision of it.
 */
export function compareVersions(a: string, b: string): number {
  const [upA = "", revA] = a.split("-", 2);
  const [upB = "", revB] = b.split("-", 2);
  const partsA = upA.split(".").map(Number);
  const partsB = upB.split(".").map(Number);
  for (let i = 0; i < Math.max(partsA.length, partsB.length); i++) {
    const diff = (partsA[i] ?? 0) - (partsB[i] ?? 0);
    if (diff !== 0) return Math.sign(diff);
  }
  if (revA === revB) return 0;
  if (revA === undefined) return -1;
  if (revB === undefined) return 1;
  return revA.localeCompare(revB, undefined, { numeric: true });
}
