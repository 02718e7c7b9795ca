import { packageFile } from "../../harness/package-files.js";

/** A file of the gate `fwcompat init` writes, as shipped with fwcompat (templates/init/). */
export const initTemplateFile = (name: string): string => packageFile("templates", "init", name);
