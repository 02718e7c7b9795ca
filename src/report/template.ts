import { html as escapingHtml, raw } from "hono/html";

/** Markup: made only by `markup` (every value interpolated into it escaped) or by `trusted`. */
export type Html = ReturnType<typeof raw>;

/**
 * The report's one way to write markup (named so that Prettier leaves the templates' whitespace alone, which
 * the page's <pre> blocks and its tests rely on): every interpolated value is escaped (strings, numbers,
 * arrays of either) unless it is itself Html made here; false, null and undefined render nothing.
 */
export function markup(strings: TemplateStringsArray, ...values: unknown[]): Html {
  const written = escapingHtml(strings, ...values);
  if (written instanceof Promise) throw new Error("report templates are synchronous: a promise was interpolated");
  return written;
}

/** Markup the report's own code wrote (its style sheet and script), never data. */
export const trusted = (markup: string): Html => raw(markup);

/** Items joined by a separator, each escaped unless already Html. */
export const joined = (items: readonly unknown[], separator: Html): Html =>
  markup`${items.flatMap((item, i) => (i ? [separator, item] : [item]))}`;
