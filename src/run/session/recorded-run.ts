import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { UserError } from "../../errors.js";
import type { MachineFacts } from "../../results/machine.js";
import { renderSummary } from "../../results/markdown.js";
import type { CellResult } from "../../results/schema.js";
import { readCellResult } from "../../results/upgrade.js";
import { writeAtomically, writeCellResult } from "../../results/write.js";

/** What run.json says about a run besides its state. */
export interface RunInfo {
  runId: string;
  matrixFile: string;
  filters: readonly string[];
  repeat: number;
  seed: string;
  cells: number;
  resumed: number;
  machine?: MachineFacts;
}

/** A run id: the UTC time to the second and three random bytes, e.g. 20250101120000-a1b2c3 (after an optional prefix). */
export const newRunId = (prefix = ""): string =>
  `${prefix}${new Date().toISOString().replace(/[-:T]/g, "").slice(0, 14)}-${randomBytes(3).toString("hex")}`;

/** A probe-order seed for a run that was given none. */
export const newSeed = (): string => randomBytes(4).toString("hex");

/**
 * A run's output directory: run.json (state running, then finished), cells/<id>.json the
 * moment each cell finishes, and summary.md at the end.
 */
export class RecordedRun {
  private info: RunInfo | undefined;

  private constructor(readonly dir: string) {}

  /** Creates the directory; one that cannot be made is the user's to fix. */
  static async create(dir: string): Promise<RecordedRun> {
    await mkdir(dir, { recursive: true }).catch((error: NodeJS.ErrnoException) => {
      throw new UserError(
        `--out ${dir}: cannot create it (${error.code ?? error.message}); choose another output directory`,
      );
    });
    return new RecordedRun(dir);
  }

  /** Results a previous run left here that finished without a harness error; --resume does not run them again. */
  async finishedCells(): Promise<Map<string, CellResult>> {
    const dir = join(this.dir, "cells");
    const finished = new Map<string, CellResult>();
    for (const file of await readdir(dir).catch(() => [] as string[])) {
      if (!file.endsWith(".json")) continue;
      const parsed = readCellResult(JSON.parse(await readFile(join(dir, file), "utf8").catch(() => "null")));
      if (parsed.success && parsed.data.status !== "error") finished.set(parsed.data.cell.id, parsed.data);
    }
    return finished;
  }

  async running(info: RunInfo): Promise<void> {
    this.info = info;
    await this.writeRunJson({ ...info, state: "running" });
  }

  async cell(result: CellResult): Promise<void> {
    await writeCellResult(this.dir, result);
  }

  /** Writes summary.md and marks run.json finished; returns the summary. */
  async finished(
    results: readonly CellResult[],
    timing: { wallMs: number; imageTimingsMs: Record<string, number> },
  ): Promise<string> {
    if (!this.info) throw new Error("a run is recorded as finished before it was recorded as running");
    const summary = renderSummary(results);
    await writeAtomically(join(this.dir, "summary.md"), `${summary}\n`);
    await this.writeRunJson({
      ...this.info,
      state: "finished",
      wallMs: timing.wallMs,
      imageTimingsMs: timing.imageTimingsMs,
    });
    return summary;
  }

  private writeRunJson(content: object): Promise<void> {
    return writeAtomically(join(this.dir, "run.json"), `${JSON.stringify(content, null, 2)}\n`);
  }
}
