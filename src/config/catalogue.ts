import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { UserError } from "../errors.js";
import {
  catalogueFileSchema,
  type Engine,
  type IptablesBuild,
  type MatrixFile,
  type WrittenMatrixFile,
} from "./schema.js";
import { parseYamlWithSchema } from "./yaml-schema.js";

/** The iptables builds and engines a matrix may pick by name. */
export interface Catalogue {
  /** the file it was read from, named in messages */
  file: string;
  iptables: ReadonlyMap<string, IptablesBuild>;
  engines: ReadonlyMap<string, Engine>;
}

/** Reads and validates a catalogue file; any problem becomes one UserError with the catalogue's file:line:col. */
export function loadCatalogueFile(file: string): Catalogue {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new UserError(`${file}: cannot read the catalogue (${(error as NodeJS.ErrnoException).code ?? "error"})`);
  }
  return parseCatalogueText(text, file);
}

export function parseCatalogueText(text: string, file: string): Catalogue {
  const { data, located } = parseYamlWithSchema(text, file, catalogueFileSchema);
  const byName = <T extends { name: string }>(items: readonly T[], section: string): Map<string, T> => {
    const entries = new Map<string, T>();
    items.forEach((item, i) => {
      if (entries.has(item.name))
        throw new UserError(
          `${located.locate([section, i, "name"])}: duplicate name '${item.name}' in ${section}; names must be unique`,
        );
      entries.set(item.name, item);
    });
    return entries;
  };
  return { file, iptables: byName(data.iptables, "iptables"), engines: byName(data.engines, "engines") };
}

/**
 * The matrix with every catalogue name replaced by the catalogue's entry; an entry written
 * in the matrix is kept as written (named like a catalogue entry, it replaces that entry).
 */
export function pickFromCatalogue(
  matrix: WrittenMatrixFile,
  catalogue: Catalogue,
): { matrix: MatrixFile; problems: Array<{ path: PropertyKey[]; message: string }> } {
  const problems: Array<{ path: PropertyKey[]; message: string }> = [];
  const pick = <T>(items: ReadonlyArray<string | T>, entries: ReadonlyMap<string, T>, section: string, what: string) =>
    items.flatMap((item, i) => {
      if (typeof item !== "string") return [item];
      const entry = entries.get(item);
      if (entry) return [entry];
      problems.push({
        path: [section, i],
        message: `unknown ${what} '${item}'; ${basename(catalogue.file)} has: ${[...entries.keys()].join(", ")} (or write the whole entry here)`,
      });
      return [];
    });
  const iptables = pick(matrix.iptables, catalogue.iptables, "iptables", "iptables build");
  const engines = pick(matrix.engines, catalogue.engines, "engines", "engine");
  return { matrix: { ...matrix, iptables, engines }, problems };
}
