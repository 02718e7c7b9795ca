/** Medians, ranges and ratios as the bench prints them (seconds, two decimals). */
export function median(samples: readonly number[]): number {
  if (samples.length === 0) throw new Error("median of no samples");
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

const seconds = (ms: number) => (ms / 1000).toFixed(2);

/** "9.41 s (9.02–10.3)": the median and the range of the samples, in seconds. */
export function describe(samplesMs: readonly number[]): string {
  return `${seconds(median(samplesMs))} s (${seconds(Math.min(...samplesMs))}–${seconds(Math.max(...samplesMs))})`;
}

/** The ratio of two medians, e.g. "1.32×". */
export function ratio(numeratorMs: readonly number[], denominatorMs: readonly number[]): number {
  return median(numeratorMs) / median(denominatorMs);
}

export interface Target {
  label: string;
  value: number;
  /** the largest value that meets the target */
  atMost: number;
  unit: "×" | "s" | "%" | "units";
}

export function targetLine(t: Target): string {
  if (t.unit === "units")
    return `${t.value <= t.atMost ? "met    " : "MISSED "} ${t.label}: ${t.value.toFixed(0)} (target ≤ ${t.atMost})`;
  const shown =
    t.unit === "s"
      ? `${t.value.toFixed(2)} s`
      : t.unit === "%"
        ? `${(t.value * 100).toFixed(0)}%`
        : `${t.value.toFixed(2)}×`;
  const limit = t.unit === "s" ? `${t.atMost} s` : t.unit === "%" ? `${(t.atMost * 100).toFixed(0)}%` : `${t.atMost}×`;
  return `${t.value <= t.atMost ? "met    " : "MISSED "} ${t.label}: ${shown} (target ≤ ${limit})`;
}

/** Medians of each named phase over several attempts' timings; phases an attempt lacks count as absent, not zero. */
export function phaseMedians(timings: ReadonlyArray<Record<string, number>>): Array<[string, number, number]> {
  const byPhase = new Map<string, number[]>();
  for (const t of timings)
    for (const [phase, ms] of Object.entries(t)) (byPhase.get(phase) ?? byPhase.set(phase, []).get(phase))?.push(ms);
  return [...byPhase].map(([phase, xs]) => [phase, median(xs), xs.length]);
}
