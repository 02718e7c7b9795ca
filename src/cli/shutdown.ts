/**
 * One place decides how the process ends. After SIGINT/SIGTERM the cleanup runs to its end
 * and sets the exit status (130/143), even if the work it interrupted finishes or fails
 * meanwhile and asks to exit with its own status.
 */
const cleanups: Array<() => Promise<unknown>> = [];
let interrupted = false;

export function onShutdown(cleanup: () => Promise<unknown>): void {
  cleanups.push(cleanup);
}

export function installSignalHandlers(log: (line: string) => void): void {
  const handle = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    log(`${signal}: removing this run's hosts`);
    void Promise.allSettled(cleanups.map((cleanup) => cleanup())).finally(() =>
      process.exit(signal === "SIGINT" ? 130 : 143),
    );
  };
  process.on("SIGINT", handle);
  process.on("SIGTERM", handle);
}

export function exitWith(code: number): void {
  if (!interrupted) process.exit(code);
}
