// npm run docs:matrix: rewrites the generated reference in docs/matrix.md from matrix.schema.json.
import { readFileSync, writeFileSync } from "node:fs";
import { renderMatrixReference, withGeneratedSection, type JsonSchema } from "./docs/matrix-reference.js";

const root = new URL("../", import.meta.url);
const schema = JSON.parse(readFileSync(new URL("matrix.schema.json", root), "utf8")) as JsonSchema;
const page = new URL("docs/matrix.md", root);
writeFileSync(page, withGeneratedSection(readFileSync(page, "utf8"), renderMatrixReference(schema)));
process.stdout.write("docs/matrix.md: generated reference rewritten from matrix.schema.json\n");
