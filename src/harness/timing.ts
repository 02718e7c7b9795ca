/** Returns a wrapper that runs work and records its duration in `into[key]` (milliseconds), even when it fails. */
export function timerInto(into: Record<string, number>) {
  return async <T>(key: string, work: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      return await work();
    } finally {
      into[key] = Math.round(performance.now() - started);
    }
  };
}
