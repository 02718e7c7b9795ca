import type { RunProgressEvent } from "../run/session/session.js";

const stamp = () => new Date().toISOString().slice(11, 19);

/** A log line as fwcompat writes it without a terminal: `[hh:mm:ss] line`. */
export const plainLog =
  (stream: NodeJS.WritableStream = process.stderr) =>
  (line: string): void =>
    void stream.write(`[${stamp()}] ${line}\n`);

/** Where a run stands: attempts planned, finished and in flight, and since when. */
export class RunProgress {
  private planned: number | undefined;
  private done = 0;
  private firstStartMs: number | undefined;
  private readonly running = new Map<string, string[]>();

  constructor(private readonly startedMs: number) {}

  apply(event: RunProgressEvent, nowMs: number): void {
    if (event.kind === "planned") this.planned = event.attempts;
    else if (event.kind === "attempt-started") {
      this.firstStartMs ??= nowMs;
      this.running.set(event.cell, [...(this.running.get(event.cell) ?? []), event.attempt]);
    } else {
      this.done++;
      const left = (this.running.get(event.cell) ?? []).filter((a, i, all) => i !== all.indexOf(event.attempt));
      if (left.length) this.running.set(event.cell, left);
      else this.running.delete(event.cell);
    }
  }

  /**
   * Two lines: counts, elapsed time and the time left, then the cells running. The time left
   * is the attempts still to run at the pace measured so far (it includes the concurrency).
   */
  render(nowMs: number, width = 100): string {
    const elapsed = `${duration(nowMs - this.startedMs)} elapsed`;
    if (this.planned === undefined) return `fwcompat · preparing images · ${elapsed}`;
    const pace = this.firstStartMs !== undefined && this.done > 0 ? (nowMs - this.firstStartMs) / this.done : undefined;
    const remaining = Math.max(0, this.planned - this.done);
    const eta = pace === undefined ? "time left: after the first attempt" : `about ${duration(remaining * pace)} left`;
    const cells = this.running.size === 1 ? "1 cell running" : `${this.running.size} cells running`;
    const head = `fwcompat · ${this.done}/${this.planned} attempts done · ${cells} · ${elapsed}${remaining === 0 ? "" : ` · ${eta}`}`;
    const names = [...this.running].map(([cell, attempts]) => `${cell} (${attempts.join(", ")})`);
    return names.length ? `${head}\n${clip(`  running: ${names.join("; ")}`, width)}` : head;
  }
}

export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

const clip = (line: string, width: number) =>
  line.length > width ? `${line.slice(0, Math.max(0, width - 1))}…` : line;

export interface ProgressDisplay {
  /** a timestamped line that stays (above the live status on a terminal) */
  log(line: string): void;
  event(event: RunProgressEvent): void;
  /** leaves the last status on screen and stops updating it */
  stop(): void;
}

/**
 * On a terminal: the log lines scroll while a live status below them shows the attempts
 * done, the cells running, the elapsed time and the time left, redrawn every second. Without
 * a terminal (CI, a pipe): plain timestamped lines only.
 */
export async function progressDisplay(stream: NodeJS.WriteStream = process.stderr): Promise<ProgressDisplay> {
  const plain = plainLog(stream);
  if (!stream.isTTY || process.env.CI) return { log: plain, event: () => {}, stop: () => {} };
  const { createLogUpdate } = await import("log-update");
  const live = createLogUpdate(stream, { showCursor: true });
  const progress = new RunProgress(Date.now());
  const draw = () => live(progress.render(Date.now(), stream.columns ?? 100));
  const timer = setInterval(draw, 1000).unref();
  let stopped = false;
  return {
    log: (line) => {
      if (stopped) return plain(line);
      live.persist(`[${stamp()}] ${line}`);
      draw();
    },
    event: (event) => {
      progress.apply(event, Date.now());
      if (!stopped) draw();
    },
    stop: () => {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      draw();
      live.done();
    },
  };
}
