#!/usr/bin/env node
/* global URL, process -- a Node script */
// Runs the compiled CLI from dist/ (the npm package ships it; in a checkout `npm run build` writes it).
import { existsSync } from "node:fs";

const main = new URL("../dist/src/cli/main.js", import.meta.url);
if (!existsSync(main)) {
  process.stderr.write(
    "fwcompat: dist/ is missing; run `npm run build` in this checkout (npm run matrix runs the TypeScript sources directly)\n",
  );
  process.exit(2);
}
await import(main.href);
