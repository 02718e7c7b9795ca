import { parseArgs } from "node:util";
import { UserError } from "../errors.js";
import type { ConcurrencyChoice } from "../config/concurrency.js";

export const USAGE = `usage: fwcompat run [--matrix FILE] [--filter key=value ...] [--concurrency N|auto] [--out DIR]
                    [--repeat N] [--seed S] [--resume DIR] [--baseline-only] [--debug]
       fwcompat report DIR... [--out DIR] [--update-goldens] [--goldens DIR]
       fwcompat gate --expect FILE [--candidate key=value ...] [--filter key=value ...] [--results DIR | --matrix FILE --out DIR]
       fwcompat compare OLD_DIR NEW_DIR [--fail-on-change]
       fwcompat plan [--matrix FILE] [--filter key=value ...] [--format gha|json|text]
       fwcompat bisect --good REF --bad REF [--by probe|traffic] ...   (fwcompat bisect --help)
       fwcompat clean        remove everything left by runs that were killed
       fwcompat schema       print the JSON schema of matrix files`;

export interface CliArgs {
  command: string;
  matrix: string | undefined;
  filters: string[];
  concurrency: ConcurrencyChoice | undefined;
  out: string | undefined;
  repeat: number;
  /** chooses the probe order of every cell and repeat; random (and recorded) when not given */
  seed: string | undefined;
  resume: string | undefined;
  baselineOnly: boolean;
  help: boolean;
  /** positional arguments after the command (result directories) */
  paths: string[];
  updateGoldens: boolean;
  goldens: string | undefined;
  expect: string | undefined;
  results: string | undefined;
  candidates: string[];
  format: "gha" | "json" | "text";
  failOnChange: boolean;
}

function wholeNumber(option: string, value: string | undefined, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new UserError(`--${option} '${value}': use a whole number from 1 to ${max}${option === "concurrency" ? " or 'auto'" : ""}`);
  return n;
}

function seedOf(value: string | undefined): string | undefined {
  if (value !== undefined && !/^[\w.-]{1,64}$/.test(value)) throw new UserError(`--seed '${value}': use up to 64 letters, digits, '.', '_' or '-'`);
  return value;
}

export function parseCliArgs(argv: string[]): CliArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        matrix: { type: "string" },
        filter: { type: "string", multiple: true, default: [] },
        concurrency: { type: "string" },
        out: { type: "string" },
        repeat: { type: "string" },
        seed: { type: "string" },
        resume: { type: "string" },
        "baseline-only": { type: "boolean", default: false },
        "update-goldens": { type: "boolean", default: false },
        goldens: { type: "string" },
        expect: { type: "string" },
        results: { type: "string" },
        candidate: { type: "string", multiple: true, default: [] },
        format: { type: "string", default: "text" },
        "fail-on-change": { type: "boolean", default: false },
        debug: { type: "boolean", default: false },
        help: { type: "boolean", default: false },
      },
    });
  } catch (error) {
    throw new UserError(`${(error as Error).message.split("\n")[0]}; ${USAGE.split("\n")[0]}`);
  }
  const { values, positionals } = parsed;
  if (values.resume && values.out && values.resume !== values.out) throw new UserError("--resume DIR already names the output directory; drop --out");
  const format = values.format ?? "text";
  if (format !== "gha" && format !== "json" && format !== "text") throw new UserError(`--format '${format}': use gha, json or text`);
  return {
    command: positionals[0] ?? "run",
    paths: positionals.slice(1),
    updateGoldens: values["update-goldens"] ?? false,
    goldens: values.goldens,
    expect: values.expect,
    results: values.results,
    candidates: values.candidate ?? [],
    format,
    failOnChange: values["fail-on-change"] ?? false,
    matrix: values.matrix,
    filters: values.filter ?? [],
    concurrency: values.concurrency === "auto" ? "auto" : wholeNumber("concurrency", values.concurrency, 16),
    out: values.resume ?? values.out,
    repeat: wholeNumber("repeat", values.repeat, 20) ?? 1,
    seed: seedOf(values.seed),
    resume: values.resume,
    baselineOnly: values["baseline-only"] ?? false,
    help: values.help ?? false,
  };
}
