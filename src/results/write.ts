import { mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { CellResult } from "./schema.js";

/** Writes via a temporary file and rename, so a reader never sees half a result. */
export async function writeAtomically(file: string, content: string): Promise<void> {
  await writeFile(`${file}.tmp-${process.pid}`, content);
  await rename(`${file}.tmp-${process.pid}`, file);
}

export async function writeCellResult(outDir: string, result: CellResult): Promise<string> {
  const dir = join(outDir, "cells");
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${result.cell.id}.json`);
  await writeAtomically(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}
