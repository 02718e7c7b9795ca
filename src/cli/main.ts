import { z } from "zod";
import { matrixFileSchema } from "../config/schema.js";
import { assertEngineReachable, connectEngine } from "../harness/engine.js";
import { sweep } from "../harness/sweep.js";
import { sweepVagrant } from "../harness/providers/vagrant.js";
import { parseCliArgs, USAGE } from "./args.js";
import { bisectCommand } from "./bisect-command.js";
import { runCommand } from "./run-command.js";
import { compareCommand, gateCommand, planCommand, reportCommand } from "./report-commands.js";
import { exitWith, installSignalHandlers } from "./shutdown.js";
import { UserError } from "../errors.js";

const stamp = () => new Date().toISOString().slice(11, 19);
const log = (line: string) => process.stderr.write(`[${stamp()}] ${line}\n`);

async function main(argv: string[]): Promise<number> {
  // bisect has options of its own; it parses them itself
  if (argv[0] === "bisect") {
    installSignalHandlers(log);
    return bisectCommand(argv.slice(1), connectEngine(), log);
  }
  const args = parseCliArgs(argv);
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (args.command === "schema") {
    process.stdout.write(`${JSON.stringify(z.toJSONSchema(matrixFileSchema, { io: "input" }), null, 2)}\n`);
    return 0;
  }
  if (args.command === "report") return reportCommand(args, log);
  if (args.command === "compare") return compareCommand(args);
  if (args.command === "plan") return planCommand(args);
  const docker = connectEngine();
  if (args.command === "clean") {
    await assertEngineReachable(docker);
    const count = await sweep(docker);
    const vms = await sweepVagrant();
    log(`removed ${count.containers} containers, ${count.networks} networks, ${count.volumes} volumes and ${vms} VMs left by killed runs`);
    return 0;
  }
  if (args.command === "run" || args.command === "gate") {
    installSignalHandlers(log);
    return args.command === "run" ? runCommand(args, docker, log) : gateCommand(args, docker, log);
  }
  throw new UserError(`unknown command '${args.command}'; ${USAGE.split("\n")[0]}`);
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
