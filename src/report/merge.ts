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

/** A cell result of any readable version, in today's shape (older results are judged again by today's rules). */
function validated(value: unknown, file: string): CellResult {
  const read = readCellResult(value);
  if (read.success) return read.data;
  throw notAResult(file, read.error);
}

/** Cells of one result directory: a merged results.json, or the per-cell files of a run or shard. */
async function cellsOf(dir: string): Promise<CellResult[]> {
  const merged = join(dir, "results.json");
  if (existsSync(merged)) {
    const envelope = mergedEnvelope.safeParse(await readJson(merged));
    if (!envelope.success) throw notAResult(merged, envelope.error);
    return envelope.data.cells.map((cell, i) => validated(cell, `${merged} cell ${i}`));
  }
  const cellsDir = join(dir, "cells");
  // a bisect by probe runs no cell: its directory holds only bisect.json
  if (!existsSync(cellsDir) && existsSync(join(dir, BISECT_FILE))) return [];
  const files = (
    await readdir(cellsDir).catch(() => {
      throw new UserError(
        `${dir}: no results.json, no cells/ directory and no ${BISECT_FILE}; pass a run's or a bisect's output directory`,
      );
    })
  ).filter((f) => f.endsWith(".json"));
  return Promise.all(files.map(async (f) => validated(await readJson(join(cellsDir, f)), join(cellsDir, f))));
}

/** Merges shards; when two hold the same cell, the one that started later wins. */
export async function mergeResults(dirs: readonly string[]): Promise<MergedResults> {
  const byId = new Map<string, CellResult>();
  for (const dir of dirs) {
    for (const cell of await cellsOf(dir)) {
      const earlier = byId.get(cell.cell.id);
      if (!earlier || earlier.startedAt < cell.startedAt) byId.set(cell.cell.id, cell);
    }
  }
  const cells = [...byId.values()].sort((a, b) => a.cell.id.localeCompare(b.cell.id));
  return { schemaVersion: RESULT_SCHEMA_VERSION, generatedAt: new Date().toISOString(), sources: [...dirs], cells };
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
