import { entriesEveryFileWaitsFor } from "./warm-entries.js";
import { warmedImages } from "./warmed.js";

// Before each integration file: the images of the warm-up entries without a compiled engine are
// ready, or the file fails with the reason they are not (an unreachable engine, a build that
// failed). A file that needs a compiled engine waits for its entry itself (test/support/warmed.ts).
await warmedImages(...entriesEveryFileWaitsFor());
