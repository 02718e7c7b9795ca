import stringWidth from "string-width";
import wrapAnsi from "wrap-ansi";

export interface TextColumn {
  header: string;
  /** the narrowest this column is squeezed to before the others stop giving way */
  min: number;
}

/** A line across the whole table above the rows that follow it (their scenario, say). */
export interface TextHeading {
  heading: string;
}
export type TextRow = readonly string[] | TextHeading;

const isHeading = (row: TextRow): row is TextHeading => !Array.isArray(row);

const GAP = "  ";

/** Text wrapped to a width, words broken only when one is longer than the width. */
export const wrapTo = (text: string, width: number): string[] =>
  wrapAnsi(text, Math.max(1, width), { hard: true, trim: true }).split("\n");

const widestOf = (texts: readonly string[]) => Math.max(0, ...texts.map((text) => stringWidth(text)));
const linesOf = (text: string) => text.split("\n");
const wordsOf = (text: string) => text.split(/\s+/);

/** Lines a cell takes in a column this wide. */
const linesAt = (cell: string, width: number) => linesOf(cell).flatMap((line) => wrapTo(line, width)).length;

/**
 * Column widths that fit `width` and spend the fewest lines: each column starts at its longest
 * word (so no word is broken; at its min when even that does not fit), then the room left goes
 * to the widening, of any column by any amount, that saves the most lines per character, until
 * none saves a line (a column never wider than its widest line).
 */
export function columnWidths(
  columns: readonly TextColumn[],
  rows: readonly (readonly string[])[],
  width: number,
): number[] {
  const cellsOf = (i: number) => [columns[i]?.header ?? "", ...rows.map((row) => row[i] ?? "")];
  const widest = columns.map((c, i) => Math.max(c.min, widestOf(cellsOf(i).flatMap(linesOf))));
  const room = width - GAP.length * (columns.length - 1);
  const words = columns.map((c, i) => Math.max(c.min, widestOf(cellsOf(i).flatMap(wordsOf))));
  const widths = words.reduce((a, b) => a + b, 0) <= room ? [...words] : columns.map((c) => c.min);
  // per column and width, the lines each row (the header first) takes: computed once, summed often
  const cache = columns.map(() => new Map<number, number[]>());
  const rowLines = (column: number, w: number): number[] => {
    const known = cache[column]?.get(w);
    if (known) return known;
    const lines = cellsOf(column).map((cell) => linesAt(cell, w));
    cache[column]?.set(w, lines);
    return lines;
  };
  const heightWith = (candidate: readonly number[]) => {
    const perColumn = candidate.map((w, column) => rowLines(column, w));
    return cellsOf(0).reduce((sum, _, row) => sum + Math.max(1, ...perColumn.map((lines) => lines[row] ?? 1)), 0);
  };
  let left = room - widths.reduce((a, b) => a + b, 0);
  let height = heightWith(widths);
  while (left > 0) {
    let best: { column: number; extra: number; height: number } | undefined;
    widths.forEach((w, column) => {
      for (let extra = 1; extra <= Math.min(left, (widest[column] ?? 0) - w); extra++) {
        const tried = heightWith(widths.map((v, i) => (i === column ? v + extra : v)));
        const gain = (height - tried) / extra;
        if (tried < height && (!best || gain > (height - best.height) / best.extra))
          best = { column, extra, height: tried };
      }
    });
    if (!best) break;
    widths[best.column] = (widths[best.column] ?? 0) + best.extra;
    left -= best.extra;
    height = best.height;
  }
  return widths;
}

/**
 * A plain-text table no wider than `width` (when the columns' mins allow it): a header, a
 * rule, and each row's cells wrapped in their column (a cell's own newlines kept), headings
 * wrapped across the whole width. Lines carry no trailing spaces.
 */
export function renderTextTable(columns: readonly TextColumn[], rows: readonly TextRow[], width: number): string[] {
  const widths = columnWidths(
    columns,
    rows.filter((row): row is readonly string[] => !isHeading(row)),
    width,
  );
  const lineOf = (cells: readonly string[]) =>
    cells
      .map((cell, i) => cell + " ".repeat(Math.max(0, (widths[i] ?? 0) - stringWidth(cell))))
      .join(GAP)
      .trimEnd();
  const block = (cells: readonly string[]) => {
    const wrapped = cells.map((cell, i) => cell.split("\n").flatMap((part) => wrapTo(part, widths[i] ?? 1)));
    const height = Math.max(...wrapped.map((lines) => lines.length));
    return Array.from({ length: height }, (_, line) => lineOf(wrapped.map((lines) => lines[line] ?? "")));
  };
  return [
    ...block(columns.map((c) => c.header)),
    widths.map((w) => "─".repeat(w)).join(GAP),
    ...rows.flatMap((row) =>
      isHeading(row) ? wrapTo(row.heading, width) : block(columns.map((_, i) => row[i] ?? "")),
    ),
  ];
}
