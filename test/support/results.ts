import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { cellResultSchema, type CellResult } from "../../src/results/schema.js";

/** Every cell result a run wrote under `<outDir>/cells`, each checked against the result schema. */
export async function readCells(outDir: string): Promise<CellResult[]> {
  const dir = join(outDir, "cells");
  const files = (await readdir(dir)).filter((f) => f.endsWith(".json"));
  return Promise.all(files.map(async (f) => cellResultSchema.parse(JSON.parse(await readFile(join(dir, f), "utf8")))));
}
