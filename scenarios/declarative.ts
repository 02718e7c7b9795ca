import { matchErrors, mustStep, runStep, shellQuote, iptablesSave, tryUserAction } from "../src/api/index.js";
import type {
  HostCommand,
  LoadedScenario,
  ProbeSpec,
  Scenario,
  ScenarioContext,
  UserAction,
} from "../src/api/index.js";
import { beforeDockerd } from "./lib/host-setup.js";
import { standardProbes } from "./lib/probes.js";
import { deployTopology, describeTarget, runWorkload } from "./lib/topology.js";

/** Base64 chunks small enough for one exec argument each. */
const CHUNK = 64 * 1024;

async function copyFiles(ctx: ScenarioContext, files: LoadedScenario["files"]): Promise<void> {
  for (const file of files) {
    const to = shellQuote(file.to);
    const chunks = file.base64.match(new RegExp(`.{1,${CHUNK}}`, "gs")) ?? [""];
    await mustStep(
      ctx.host,
      ctx.steps,
      `copy ${file.from} -> ${file.to}`,
      `mkdir -p "$(dirname ${to})" && : > ${to}.b64`,
    );
    for (const chunk of chunks)
      await mustStep(ctx.host, ctx.steps, `copy ${file.to} (part)`, `printf '%s' '${chunk}' >> ${to}.b64`);
    await mustStep(
      ctx.host,
      ctx.steps,
      `install ${file.to}`,
      `base64 -d ${to}.b64 > ${to} && rm ${to}.b64 && chmod ${file.mode} ${to}`,
    );
  }
}

const asCommand = (c: HostCommand) =>
  typeof c === "string" ? { name: c, run: c, mayFail: false, timeoutSeconds: 60 } : { ...c, name: c.name ?? c.run };

async function runBreak(ctx: ScenarioContext, def: LoadedScenario): Promise<void> {
  for (const command of def.break.run.map(asCommand)) {
    const step = command.mayFail ? runStep : mustStep;
    const result = await step(
      ctx.host,
      ctx.steps,
      `break: ${command.name}`,
      command.run,
      command.timeoutSeconds * 1000,
    );
    ctx.errors.push(...matchErrors(`break: ${command.name}`, result.stderr + result.stdout));
  }
}

async function deploy(ctx: ScenarioContext, def: LoadedScenario): Promise<void> {
  if (!def.deploy) return deployTopology(ctx);
  const networks = [...new Set(def.deploy.flatMap((c) => (c.network ? [c.network] : [])))];
  for (const network of networks)
    await mustStep(ctx.host, ctx.steps, `create ${network}`, `docker network create ${network}`);
  for (const c of def.deploy) await runWorkload(ctx, { name: c.name, network: c.network, hostPort: c.publish });
}

/** The user's actions; one that starts a container is re-run from scratch each time, and its container probed when it runs. */
async function tryUserActions(ctx: ScenarioContext, actions: readonly UserAction[], attempt: string): Promise<void> {
  for (const raw of actions) {
    const action = typeof raw === "string" ? { run: raw, name: raw } : { ...raw, name: raw.name ?? raw.run };
    const container = "container" in action ? action.container : undefined;
    if (container) {
      await runStep(
        ctx.host,
        ctx.steps,
        `${attempt}: remove ${container}`,
        `docker rm -f ${container} >/dev/null 2>&1 || true`,
      );
      const index = ctx.targets.findIndex((t) => t.container === container);
      if (index >= 0) ctx.targets.splice(index, 1);
    }
    // recorded as a user action: the cell and every fix verdict count whether it succeeded
    const result = await tryUserAction(ctx, attempt, action.name, action.run);
    if (container && result.exitCode === 0)
      ctx.targets.push(await describeTarget(ctx, container, "publish" in action ? action.publish : undefined));
  }
}

/** Each expectation must meet a probe: one naming a container nothing published would otherwise pass on no data. */
function probesFor(ctx: ScenarioContext, def: LoadedScenario): ProbeSpec[] {
  const published = new Set(ctx.targets.filter((t) => t.hostPort !== undefined).map((t) => t.container));
  const unmatched = def.expect.filter((e) => !published.has(e.container)).map((e) => e.container);
  if (unmatched.length > 0) {
    throw new Error(
      `scenario '${def.name}' (${def.source}) expects traffic to ${[...new Set(unmatched)].join(", ")}, but no such published container runs; running: ${[...published].join(", ")}`,
    );
  }
  return standardProbes(ctx, (target, vantage) => {
    const rule = def.expect.find(
      (e) => e.container === target.container && (e.vantage === undefined || [e.vantage].flat().includes(vantage)),
    );
    return rule ? { expect: rule.expect, ...(rule.because ? { guard: rule.because } : {}) } : undefined;
  });
}

/** Turns a scenario declared in YAML into one the runner runs like the built-in ones. */
export function declarativeScenario(def: LoadedScenario): Scenario {
  const userActions = async (ctx: ScenarioContext, attempt: string) => tryUserActions(ctx, def.userActions, attempt);
  const copyAndBreak = async (ctx: ScenarioContext) => {
    await copyFiles(ctx, def.files);
    await runBreak(ctx, def);
  };
  return {
    name: def.name,
    variants: [],
    description: def.description,
    async setUp(ctx) {
      if (def.break.when === "before-dockerd") {
        await beforeDockerd(ctx, () => copyAndBreak(ctx));
        await deploy(ctx, def);
      } else {
        await deploy(ctx, def);
        ctx.rulesBeforeBreak = await iptablesSave(ctx.host);
        await copyAndBreak(ctx);
      }
      await userActions(ctx, "after break");
    },
    retry: (ctx) => userActions(ctx, "after fix"),
    probes: (ctx) => probesFor(ctx, def),
  };
}
