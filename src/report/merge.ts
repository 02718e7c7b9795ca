import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { UserError } from "../errors.js";
import { bisectFileSchema, type BisectFile } from "../results/bisect.js";
import { cellResultSchema, RESULT_SCHEMA_VERSION, type CellResult } from "../results/schema.js";
import { READABLE_SCHEMA_VERSIONS, readCellResult } from "../results/upgrade.js";

export const BISECT_FILE = "bisect.json";

export const mergedResultsSchema = z.object({
  schemaVersion: z.literal(RESULT_SCHEMA_VERSION),
  generatedAt: z.string(),
  sources: z.array(z.string()),
  cells: z.array(cellResultSchema),
});
export type MergedResults = z.infer<typeof mergedResultsSchema>;

async function readJson(file: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    throw new UserError(`${file}: not readable JSON (${(error as Error).message.split("\n")[0]})`);
  }
}

/** The merged file's envelope, of any version this fwcompat reads; its cells are read one by one. */
const mergedEnvelope = z.object({
  schemaVersion: z.union(READABLE_SCHEMA_VERSIONS.map((v) => z.literal(v))),
  cells: z.array(z.unknown()),
});

function notAResult(file: string, error: z.ZodError): UserError {
  const issue = error.issues[0];
  return new UserError(
    `${file}: not a fwcompat result of schema version ${READABLE_SCHEMA_VERSIONS.join(" or ")} (${issue?.path.join(".") || "root"}: ${issue?.message})`,
  );
}

/** A result left out of a report, named by its file (or cell), with why. */
export interface UnreadResult {
  source: string;
  reason: string;
}

/** Cells read from result directories, and the result files that could not be read. */
export interface ReadResults {
  merged: MergedResults;
  unread: UnreadResult[];
}

type CellOrUnread = { cell: CellResult } | { unread: UnreadResult };

/** Any failure to read or upgrade one file names that file; the others are still read. */
const unreadOf = (error: unknown, source: string): CellOrUnread => {
  const message = error instanceof Error ? (error.message.split("\n")[0] ?? "") : String(error);
  return { unread: { source, reason: message.startsWith(`${source}: `) ? message.slice(source.length + 2) : message } };
};

/** A cell result of any readable version, in today's shape (older results are judged again by today's rules). */
function validated(value: unknown, file: string): CellResult {
  const read = readCellResult(value);
  if (read.success) return read.data;
  throw notAResult(file, read.error);
}

function attempt(source: string, read: () => CellResult): CellOrUnread {
  try {
    return { cell: read() };
  } catch (error) {
    return unreadOf(error, source);
  }
}

/** Cells of one result directory: a merged results.json, or the per-cell files of a run or shard; a file that is not a readable result is named, not fatal. */
async function cellsOf(dir: string): Promise<CellOrUnread[]> {
  // a run's own cells/ come first: the results.json its report wrote beside them may predate a resume
  const cellsDir = join(dir, "cells");
  if (existsSync(cellsDir)) {
    const files = (await readdir(cellsDir)).filter((f) => f.endsWith(".json"));
    return Promise.all(
      files.map(async (f) => {
        const file = join(cellsDir, f);
        try {
          return { cell: validated(await readJson(file), file) };
        } catch (error) {
          return unreadOf(error, file);
        }
      }),
    );
  }
  const merged = join(dir, "results.json");
  if (existsSync(merged)) {
    const envelope = mergedEnvelope.safeParse(await readJson(merged));
    if (!envelope.success) throw notAResult(merged, envelope.error);
    return envelope.data.cells.map((cell, i) =>
      attempt(`${merged} cell ${i}`, () => validated(cell, `${merged} cell ${i}`)),
    );
  }
  // a bisect by probe runs no cell: its directory holds only bisect.json
  if (existsSync(join(dir, BISECT_FILE))) return [];
  throw new UserError(
    `${dir}: no cells/ directory, no results.json and no ${BISECT_FILE}; pass a run's or a bisect's output directory`,
  );
}

/** Merges shards, naming the result files it could not read; when two hold the same cell, the one that started later wins. */
export async function readResults(dirs: readonly string[]): Promise<ReadResults> {
  const byId = new Map<string, CellResult>();
  const unread: UnreadResult[] = [];
  for (const dir of dirs) {
    for (const read of await cellsOf(dir)) {
      if ("unread" in read) {
        unread.push(read.unread);
        continue;
      }
      const earlier = byId.get(read.cell.cell.id);
      if (!earlier || earlier.startedAt < read.cell.startedAt) byId.set(read.cell.cell.id, read.cell);
    }
  }
  const cells = [...byId.values()].sort((a, b) => a.cell.id.localeCompare(b.cell.id));
  return {
    merged: { schemaVersion: RESULT_SCHEMA_VERSION, generatedAt: new Date().toISOString(), sources: [...dirs], cells },
    unread,
  };
}

/** Merges shards and refuses any result file it cannot read (for judging: gate and compare). */
export async function mergeResults(dirs: readonly string[]): Promise<MergedResults> {
  const { merged, unread } = await readResults(dirs);
  const [first] = unread;
  if (first) throw new UserError(`${first.source}: ${first.reason}`);
  return merged;
}

/** The bisects among the directories (those holding a bisect.json). */
export async function bisectsOf(dirs: readonly string[]): Promise<BisectFile[]> {
  const files = dirs.map((dir) => join(dir, BISECT_FILE)).filter((file) => existsSync(file));
  return Promise.all(
    files.map(async (file) => {
      const parsed = bisectFileSchema.safeParse(await readJson(file));
      if (parsed.success) return parsed.data;
      const issue = parsed.error.issues[0];
      throw new UserError(`${file}: not a fwcompat bisect (${issue?.path.join(".") || "root"}: ${issue?.message})`);
    }),
  );
}
