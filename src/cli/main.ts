import type Docker from "dockerode";
import { runCommandLine, type CommandActions } from "./program.js";
import { plainLog, progressDisplay } from "./progress.js";
import type { ProgressSink } from "../run/session/session.js";
import { exitWith, installSignalHandlers } from "./shutdown.js";
import { UserError } from "../errors.js";

const log = plainLog();

/** Runs a command that drives the engine, with a live progress display and the signal handlers that remove its hosts. */
async function withEngine(
  work: (docker: Docker, log: (line: string) => void, progress: ProgressSink) => Promise<number>,
): Promise<number> {
  const { connectEngine } = await import("../harness/engine.js");
  const docker = connectEngine();
  const display = await progressDisplay();
  installSignalHandlers(display.log);
  try {
    return await work(docker, display.log, display);
  } finally {
    display.stop();
  }
}

// Each command loads its modules when it runs: `fwcompat --help` loads commander and program.ts only.
const actions: CommandActions = {
  run: (options) =>
    withEngine(async (docker, log, progress) =>
      (await import("./run-command.js")).runCommand(options, docker, log, progress),
    ),
  gate: (options) =>
    withEngine(async (docker, log, progress) =>
      (await import("./report-commands.js")).gateCommand(options, docker, log, progress),
    ),
  report: async (options) => (await import("./report-commands.js")).reportCommand(options, log),
  compare: async (options) => (await import("./report-commands.js")).compareCommand(options),
  plan: async (options) => (await import("./report-commands.js")).planCommand(options),
  bisect: async (options) => {
    installSignalHandlers(log);
    const [{ bisectCommand }, { connectEngine }] = await Promise.all([
      import("./bisect-command.js"),
      import("../harness/engine.js"),
    ]);
    return bisectCommand(options, connectEngine(), log);
  },
  clean: async () => {
    const [{ assertEngineReachable, connectEngine }, { sweep }, { sweepVagrant }] = await Promise.all([
      import("../harness/engine.js"),
      import("../harness/sweep.js"),
      import("../harness/providers/vagrant.js"),
    ]);
    const docker = connectEngine();
    await assertEngineReachable(docker);
    const count = await sweep(docker);
    const vms = await sweepVagrant();
    log(
      `removed ${count.containers} containers, ${count.networks} networks, ${count.volumes} volumes and ${vms} VMs left by killed runs`,
    );
    return 0;
  },
  schema: async () => {
    const [{ z }, { matrixFileSchema }] = await Promise.all([import("zod"), import("../config/schema.js")]);
    process.stdout.write(`${JSON.stringify(z.toJSONSchema(matrixFileSchema, { io: "input" }), null, 2)}\n`);
    return 0;
  },
};

const debug = process.argv.includes("--debug");
runCommandLine(process.argv.slice(2), actions).then(
  (code) => exitWith(code),
  (error: unknown) => {
    if (error instanceof UserError) {
      process.stderr.write(`fwcompat: ${error.message}\n${debug ? `${error.stack}\n` : ""}`);
      return exitWith(2);
    }
    process.stderr.write(
      `fwcompat: internal error: ${debug ? (error as Error).stack : (error as Error).message} (run with --debug for details)\n`,
    );
    exitWith(1);
  },
);
