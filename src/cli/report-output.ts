import { join } from "node:path";
import { writeReport, type ReportOptions } from "../report/report.js";

/** The page was written, but some result files were left out or rendered without their unreadable evidence. */
export const REPORT_INCOMPLETE = 3;

/**
 * Writes the report of result directories and says what it left out; the page's path is the
 * last line, and the status is REPORT_INCOMPLETE when a result could not be read or judged.
 */
export async function writeReportAndSay(
  dirs: readonly string[],
  options: ReportOptions,
  log: (line: string) => void,
): Promise<{ code: number; page: string }> {
  const written = await writeReport(dirs, options);
  const page = join(options.out, "index.html");
  if (written.goldensWritten.length) log(`goldens updated: ${written.goldensWritten.join(", ")}`);
  for (const { source, reason } of written.unread) log(`left out of the report: ${source}: ${reason}`);
  const what = `${written.cells} cell(s)${written.bisects ? ` and ${written.bisects} bisect(s)` : ""}`;
  if (written.unread.length)
    log(
      `report written without ${written.unread.length} result(s) it could not read or judge (named above and at the top of the page)`,
    );
  log(`report of ${what}: ${written.files.join(", ")}`);
  log(`report: ${page}`);
  return { code: written.unread.length ? REPORT_INCOMPLETE : 0, page };
}
