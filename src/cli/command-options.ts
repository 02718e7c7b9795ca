import type { ConcurrencyChoice } from "../config/concurrency.js";

/** What `fwcompat run` was given, checked: the command functions read these fields. */
export interface RunOptions {
  matrix: string | undefined;
  filters: string[];
  concurrency: ConcurrencyChoice | undefined;
  /** the output directory: --resume DIR when resuming, else --out DIR */
  out: string | undefined;
  repeat: number;
  /** chooses the probe order of every cell and repeat; random (and recorded) when not given */
  seed: string | undefined;
  resume: string | undefined;
  baselineOnly: boolean;
}

/** `fwcompat gate`: the run options (used when it runs the cells itself) and what it judges by. */
export interface GateOptions extends RunOptions {
  expect: string | undefined;
  results: string | undefined;
  candidates: string[];
}

export interface ReportOptions {
  /** the result directories to merge */
  paths: string[];
  out: string | undefined;
  updateGoldens: boolean;
  goldens: string | undefined;
}

export interface InitOptions {
  /** where the gate is written (default: the working directory) */
  dir: string | undefined;
  /** the reusable action the workflow uses, owner/repository@ref */
  action: string | undefined;
}

export interface SummaryOptions {
  /** the result directories whose cells are summarised together */
  paths: string[];
}

export interface CompareOptions {
  /** OLD_DIR and NEW_DIR (the command checks there are two) */
  paths: string[];
  failOnChange: boolean;
}

export type PlanFormat = "gha" | "json" | "text";

export interface PlanOptions {
  matrix: string | undefined;
  filters: string[];
  format: PlanFormat;
}

export interface BisectOptions {
  good: string;
  bad: string;
  by: "probe" | "traffic";
  backend: "nft" | "legacy";
  repository: string | undefined;
  scenario: string | undefined;
  engine: string | undefined;
  daemon: string | undefined;
  topology: string | undefined;
  matrix: string | undefined;
  out: string | undefined;
}
