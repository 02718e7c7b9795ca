import { UserError } from "../errors.js";
import type { ConcurrencyChoice } from "../config/concurrency.js";
import type { PlanFormat } from "./command-options.js";

/** Parses `--OPTION N`: a whole number from 1 to max. */
export const wholeNumber =
  (option: string, max: number) =>
  (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > max)
      throw new UserError(`--${option} '${value}': use a whole number from 1 to ${max}`);
    return n;
  };

export const MAX_CONCURRENCY = 16;
export const MAX_REPEAT = 20;

export const repeatValue = wholeNumber("repeat", MAX_REPEAT);

/** `--concurrency N|auto` */
export function concurrencyValue(value: string): ConcurrencyChoice {
  if (value === "auto") return "auto";
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > MAX_CONCURRENCY)
    throw new UserError(`--concurrency '${value}': use a whole number from 1 to ${MAX_CONCURRENCY} or 'auto'`);
  return n;
}

/** `--seed S`: recorded in run.json and shown in reports, so short and plain. */
export function seedValue(value: string): string {
  if (!/^[\w.-]{1,64}$/.test(value))
    throw new UserError(`--seed '${value}': use up to 64 letters, digits, '.', '_' or '-'`);
  return value;
}

/** Parses an option that takes one of a few words, e.g. `--by probe|traffic`. */
export const oneOfWords =
  <T extends string>(option: string, words: readonly T[]) =>
  (value: string): T => {
    const found = words.find((w) => w === value);
    if (found === undefined)
      throw new UserError(
        `--${option} '${value}': use ${words.slice(0, -1).join(", ")}${words.length > 1 ? " or " : ""}${words.at(-1)}`,
      );
    return found;
  };

export const formatValue = oneOfWords<PlanFormat>("format", ["gha", "json", "text"]);

/** Accumulates a repeatable option (`--filter a=b --filter c=d`) without changing the previous list. */
export const collect = (value: string, previous: readonly string[] = []): string[] => [...previous, value];

/** --resume DIR names the output directory; an --out that disagrees is a mistake. */
export function outputDirOf(options: { resume?: string | undefined; out?: string | undefined }): string | undefined {
  if (options.resume && options.out && options.resume !== options.out)
    throw new UserError("--resume DIR already names the output directory; drop --out");
  return options.resume ?? options.out;
}
