import { parseCliArgs, USAGE } from "./args.js";
import { plainLog, progressDisplay } from "./progress.js";
import { exitWith, installSignalHandlers } from "./shutdown.js";
import { UserError } from "../errors.js";

const log = plainLog();

// Each command loads its modules when it runs: `fwcompat --help` stays well under 0.3 s.
async function main(argv: string[]): Promise<number> {
  // bisect has options of its own; it parses them itself
  if (argv[0] === "bisect") {
    installSignalHandlers(log);
    const [{ bisectCommand }, { connectEngine }] = await Promise.all([import("./bisect-command.js"), import("../harness/engine.js")]);
    return bisectCommand(argv.slice(1), connectEngine(), log);
  }
  const args = parseCliArgs(argv);
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (args.command === "schema") {
    const [{ z }, { matrixFileSchema }] = await Promise.all([import("zod"), import("../config/schema.js")]);
    process.stdout.write(`${JSON.stringify(z.toJSONSchema(matrixFileSchema, { io: "input" }), null, 2)}\n`);
    return 0;
  }
  if (args.command === "report" || args.command === "compare" || args.command === "plan") {
    const commands = await import("./report-commands.js");
    if (args.command === "report") return commands.reportCommand(args, log);
    return args.command === "compare" ? commands.compareCommand(args) : commands.planCommand(args);
  }
  if (args.command !== "clean" && args.command !== "run" && args.command !== "gate") {
    throw new UserError(`unknown command '${args.command}'; ${USAGE.split("\n")[0]}`);
  }
  const { assertEngineReachable, connectEngine } = await import("../harness/engine.js");
  const docker = connectEngine();
  if (args.command === "clean") {
    const [{ sweep }, { sweepVagrant }] = await Promise.all([import("../harness/sweep.js"), import("../harness/providers/vagrant.js")]);
    await assertEngineReachable(docker);
    const count = await sweep(docker);
    const vms = await sweepVagrant();
    log(`removed ${count.containers} containers, ${count.networks} networks, ${count.volumes} volumes and ${vms} VMs left by killed runs`);
    return 0;
  }
  const display = await progressDisplay();
  installSignalHandlers(display.log);
  try {
    if (args.command === "run") return await (await import("./run-command.js")).runCommand(args, docker, display.log, display);
    return await (await import("./report-commands.js")).gateCommand(args, docker, display.log, display);
  } finally {
    display.stop();
  }
}

const debug = process.argv.includes("--debug");
main(process.argv.slice(2)).then(
  (code) => exitWith(code),
  (error: unknown) => {
    if (error instanceof UserError) {
      process.stderr.write(`fwcompat: ${error.message}\n${debug ? `${error.stack}\n` : ""}`);
      return exitWith(2);
    }
    process.stderr.write(`fwcompat: internal error: ${debug ? (error as Error).stack : (error as Error).message} (run with --debug for details)\n`);
    exitWith(1);
  },
);
