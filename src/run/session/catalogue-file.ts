import { loadCatalogueFile, type Catalogue } from "../../config/catalogue.js";
import { packageFile } from "../../harness/package-files.js";

/** The catalogue shipped with fwcompat (beside its package.json, whether run from src/ or dist/). */
export const packagedCatalogueFile = (): string => packageFile("catalogue.yaml");

let packaged: Catalogue | undefined;

/** The shipped catalogue, read and checked on first use (not at import, so --help works even if it is broken). */
export const packagedCatalogue = (): Catalogue => (packaged ??= loadCatalogueFile(packagedCatalogueFile()));
