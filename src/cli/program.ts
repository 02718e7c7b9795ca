import { Command, CommanderError } from "commander";
import { UserError } from "../errors.js";
import type {
  BisectOptions,
  CompareOptions,
  GateOptions,
  InitOptions,
  PlanOptions,
  ReportOptions,
  RunOptions,
  SummaryOptions,
} from "./command-options.js";
import {
  collect,
  concurrencyValue,
  formatValue,
  MAX_CONCURRENCY,
  MAX_REPEAT,
  oneOfWords,
  outputDirOf,
  repeatValue,
  seedValue,
} from "./option-values.js";

/** What each command does once its options are parsed; each resolves to the exit status. */
export interface CommandActions {
  run(options: RunOptions): Promise<number>;
  report(options: ReportOptions): Promise<number>;
  summary(options: SummaryOptions): Promise<number>;
  init(options: InitOptions): Promise<number>;
  gate(options: GateOptions): Promise<number>;
  compare(options: CompareOptions): Promise<number>;
  plan(options: PlanOptions): Promise<number>;
  bisect(options: BisectOptions): Promise<number>;
  clean(): Promise<number>;
  schema(options: SchemaOptions): Promise<number>;
}

export interface SchemaOptions {
  /** the catalogue file's schema instead of the matrix file's */
  catalogue: boolean;
}

export interface ProgramOutput {
  /** where --help is written */
  writeOut(text: string): void;
}

// Options that commander parses as given; option-values turns them into the command's options.
interface RawRunOptions {
  matrix?: string;
  filter?: string[];
  concurrency?: RunOptions["concurrency"];
  out?: string;
  repeat: number;
  seed?: string;
  resume?: string;
  baselineOnly?: boolean;
}

const runOptionsOf = (raw: RawRunOptions): RunOptions => ({
  matrix: raw.matrix,
  filters: raw.filter ?? [],
  concurrency: raw.concurrency,
  out: outputDirOf(raw),
  repeat: raw.repeat,
  seed: raw.seed,
  resume: raw.resume,
  baselineOnly: raw.baselineOnly ?? false,
});

const FILTER_HELP =
  "run only the cells whose KEY (scenario, engine, iptables, backend, daemon, topology, provider, fix or cell) matches; repeat to narrow";

function addRunOptions(command: Command, outHelp: string): Command {
  return command
    .option("--matrix <FILE>", "the matrix file (default: ./matrix.yaml, else the one shipped with fwcompat)")
    .option("--filter <KEY=VALUE>", FILTER_HELP, collect)
    .option(
      "--concurrency <N|auto>",
      `attempts at once, 1 to ${MAX_CONCURRENCY} or auto (default: the matrix's setting)`,
      concurrencyValue,
    )
    .option("--out <DIR>", outHelp)
    .option("--repeat <N>", `runs of every cell, 1 to ${MAX_REPEAT}`, repeatValue, 1)
    .option("--seed <S>", "the probe-order seed (default: random, recorded in run.json)", seedValue)
    .option("--resume <DIR>", "finish an earlier run in DIR: the cells it finished are kept")
    .option("--baseline-only", "run each cell without the fixes");
}

/**
 * The command line: one commander Command per fwcompat command, with its own options and --help.
 * Actions are handed in, so parsing is tested without running anything and `--help` loads no command.
 */
export function fwcompatProgram(
  actions: CommandActions,
  output?: ProgramOutput,
): { program: Command; exitCode: () => number } {
  let exitCode = 0;
  const program = new Command("fwcompat")
    .description("Reproduces Docker x iptables failures on disposable hosts and judges fixes by real traffic")
    .usage("run [options]    (the default command: `fwcompat` alone runs)\n       fwcompat <command> [options]")
    .option("--debug", "print the stack trace of an error")
    .configureHelp({
      showGlobalOptions: true,
      styleTitle: (title) => title.toLowerCase(),
      subcommandTerm: (command) => command.name(),
    })
    .configureOutput({ outputError: () => undefined, ...(output && { writeOut: output.writeOut }) })
    .helpCommand(false)
    .addHelpText("after", "\nfwcompat <command> --help lists a command's options.");

  const command = (name: string, description: string, options?: { isDefault: boolean }): Command =>
    program
      .command(name, options)
      .description(description)
      .exitOverride((error) => {
        throw oneLineError(error, name);
      });
  program.exitOverride((error) => {
    throw oneLineError(error, undefined);
  });

  addRunOptions(
    command("run", "run the matrix's cells and write their results", { isDefault: true }),
    "the output directory (default: results/<run id>)",
  ).action(async (raw: RawRunOptions) => {
    exitCode = await actions.run(runOptionsOf(raw));
  });

  command("report", "merge result directories into results.json, index.html, report.md and junit.xml")
    .usage("DIR... [options]")
    .argument("[DIR...]")
    .option("--out <DIR>", "where the report goes", "report")
    .option("--update-goldens", "write the rulesets the cells observed as the new goldens")
    .option("--goldens <DIR>", "the goldens directory (default: the one shipped with fwcompat)")
    .action(async (paths: string[], raw: { out: string; updateGoldens?: boolean; goldens?: string }) => {
      exitCode = await actions.report({
        paths,
        out: raw.out,
        updateGoldens: raw.updateGoldens ?? false,
        goldens: raw.goldens,
      });
    });

  command("summary", "print the end-of-run summary of result directories, as a run prints it")
    .usage("DIR...")
    .argument("[DIR...]")
    .action(async (paths: string[]) => {
      exitCode = await actions.summary({ paths });
    });

  addRunOptions(
    command(
      "gate",
      "judge results against expectations; runs the cells the expectations need unless given --results",
    ).option("--expect <FILE>", "the expectations file (required)"),
    "where the cells' results go when the gate runs them (default: results/gate-<time>)",
  )
    .option("--candidate <KEY=VALUE>", "judge only this candidate's cells (as --filter); repeatable", collect)
    .option("--results <DIR>", "judge these results instead of running the cells")
    .action(async (raw: RawRunOptions & { expect?: string; results?: string; candidate?: string[] }) => {
      exitCode = await actions.gate({
        ...runOptionsOf(raw),
        expect: raw.expect,
        results: raw.results,
        candidates: raw.candidate ?? [],
      });
    });

  command("compare", "list the verdicts that differ between two result directories")
    .argument("[OLD_DIR]")
    .argument("[NEW_DIR]")
    .allowExcessArguments() // the command itself says it needs exactly two
    .option("--fail-on-change", "exit 1 when a verdict differs")
    .action(async (_old: unknown, _new: unknown, raw: { failOnChange?: boolean }, compare: Command) => {
      exitCode = await actions.compare({ paths: compare.args, failOnChange: raw.failOnChange ?? false });
    });

  command("plan", "print the cells a matrix would run, e.g. as a GitHub Actions matrix")
    .option("--matrix <FILE>", "the matrix file (default: ./matrix.yaml, else the one shipped with fwcompat)")
    .option("--filter <KEY=VALUE>", FILTER_HELP, collect)
    .option(
      "--format <gha|json|text>",
      "gha: one shard per cell for a GitHub Actions matrix",
      formatValue,
      "text" as const,
    )
    .action(async (raw: { matrix?: string; filter?: string[]; format: PlanOptions["format"] }) => {
      exitCode = await actions.plan({ matrix: raw.matrix, filters: raw.filter ?? [], format: raw.format });
    });

  command("bisect", "find the iptables commit that broke (or fixed) a cell: a binary search between two refs")
    .usage("--good REF --bad REF [options]")
    .option("--good <REF>", "a ref judged good (required)")
    .option("--bad <REF>", "a ref judged bad (required); older than --good: finds the fixing commit")
    .option(
      "--by <probe|traffic>",
      "probe: each build answers the hosts' -C self-probe (seconds per commit); traffic: each build runs the whole cell",
      oneOfWords("by", ["probe", "traffic"] as const),
      "probe" as const,
    )
    .option(
      "--repository <REPO>",
      "a git URL, a path, or a bundle in the local source directory (FWCOMPAT_SOURCE_DIR) (default: the git source of the matrix's iptables builds)",
    )
    .option(
      "--backend <nft|legacy>",
      "the iptables backend built and judged",
      oneOfWords("backend", ["nft", "legacy"] as const),
      "nft" as const,
    )
    .option("--scenario <S>", "--by traffic: the cell's scenario (or scenario:variant)")
    .option("--engine <E>", "--by traffic: the cell's engine")
    .option("--daemon <D>", "--by traffic: the cell's daemon option set")
    .option("--topology <T>", "--by traffic: the cell's topology")
    .option(
      "--matrix <FILE>",
      "the matrix that names the engines, daemons and iptables sources (default: ./matrix.yaml, else the shipped one)",
    )
    .option("--out <DIR>", "the output directory (default: results/bisect-<id>)")
    .addHelpText(
      "after",
      "\nThe search finds the first commit judged bad when --good is the older ref, or good again (the fixing commit) when --bad is.",
    )
    .action(async (raw: Omit<BisectOptions, "good" | "bad"> & { good?: string; bad?: string }) => {
      const { good, bad } = raw;
      if (!good || !bad)
        throw new UserError("bisect needs --good REF and --bad REF; fwcompat bisect --help lists its options");
      exitCode = await actions.bisect({ ...raw, good, bad });
    });

  command("init", "write a minimal gate (matrix, expectations, a scenario for your firewall script, a workflow)")
    .usage("[DIR] [options]")
    .argument("[DIR]")
    .option("--action <OWNER/REPO@REF>", "the fwcompat action the workflow uses (default: a placeholder to edit)")
    .action(async (dir: string | undefined, raw: { action?: string }) => {
      exitCode = await actions.init({ dir, action: raw.action });
    });

  command("clean", "remove everything left by runs that were killed").action(async () => {
    exitCode = await actions.clean();
  });
  command("schema", "print the JSON schema of matrix files")
    .option("--catalogue", "print the schema of the catalogue file (catalogue.yaml) instead", false)
    .action(async (options: SchemaOptions) => {
      exitCode = await actions.schema({ catalogue: options.catalogue });
    });
  return { program, exitCode: () => exitCode };
}

/** Commander's own errors as fwcompat shows bad input: one line, naming where to look next. */
function oneLineError(error: CommanderError, commandName: string | undefined): Error {
  if (error.exitCode === 0) return error; // --help was printed
  const [first = "", ...suggestions] = error.message
    .replace(/^error: /, "")
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
  const where = commandName && error.code === "commander.unknownOption" ? ` for fwcompat ${commandName}` : "";
  const text = [`${first.charAt(0).toUpperCase()}${first.slice(1)}${where}`, ...suggestions]
    .join(" ")
    .replace(/\.$/, "");
  const help = commandName ? `fwcompat ${commandName} --help lists its options` : "fwcompat --help lists the commands";
  return new UserError(`${text}; ${help}`);
}

/** Parses argv (the arguments after `fwcompat`) and runs the chosen command; resolves to the exit status. */
export async function runCommandLine(argv: string[], actions: CommandActions, output?: ProgramOutput): Promise<number> {
  const { program, exitCode } = fwcompatProgram(actions, output);
  const [first] = argv;
  // Anything that is not an option or a command would otherwise reach `run` (the default) as an extra argument.
  if (first !== undefined && !first.startsWith("-") && !program.commands.some((c) => c.name() === first)) {
    throw new UserError(`unknown command '${first}'; fwcompat --help lists the commands`);
  }
  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError && error.exitCode === 0) return 0;
    throw error;
  }
  return exitCode();
}
