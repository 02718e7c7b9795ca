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
  const { openEngine } = await import("../run/session/engine-connection.js");
  const docker = openEngine();
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
  init: async (options) => (await import("./init-command.js")).initCommand(options, log),
  summary: async (options) => (await import("./report-commands.js")).summaryCommand(options, log),
  compare: async (options) => (await import("./report-commands.js")).compareCommand(options),
  plan: async (options) => (await import("./report-commands.js")).planCommand(options),
  bisect: async (options) => {
    installSignalHandlers(log);
    const [{ bisectCommand }, { openEngine }] = await Promise.all([
      import("./bisect-command.js"),
      import("../run/session/engine-connection.js"),
    ]);
    return bisectCommand(options, openEngine(), log);
  },
  clean: async () => {
    const { openEngine, removeLeftovers } = await import("../run/session/engine-connection.js");
    const count = await removeLeftovers(openEngine());
    log(
      `removed ${count.containers} containers, ${count.networks} networks, ${count.volumes} volumes and ${count.vms} VMs left by killed runs`,
    );
    return 0;
  },
  schema: async ({ catalogue }) => {
    const [{ z }, { matrixFileSchema, catalogueFileSchema }] = await Promise.all([
      import("zod"),
      import("../config/schema.js"),
    ]);
    const schema = catalogue ? catalogueFileSchema : matrixFileSchema;
    process.stdout.write(`${JSON.stringify(z.toJSONSchema(schema, { io: "input" }), null, 2)}\n`);
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
