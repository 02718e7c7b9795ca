import { randomBytes } from "node:crypto";
import { appendFileSync, existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import type Docker from "dockerode";
import { loadMatrixFile } from "../config/load.js";
import { HOST_TOOLS } from "../contract/host-contract.js";
import { UserError } from "../errors.js";
import { machineDebianMirror } from "../harness/apt-mirror.js";
import { assertEngineReachable } from "../harness/engine.js";
import type { HostProvider } from "../harness/host.js";
import { ensureBaseImage, planBaseImages } from "../harness/images/base-image.js";
import { readHostFiles, suitesNeeded } from "../harness/images/prepare.js";
import { sweep } from "../harness/sweep.js";
import { writeCellResult } from "../results/write.js";
import { runBisect } from "../run/bisect/bisect.js";
import { probeJudge, trafficJudge, type JudgeContext } from "../run/bisect/judges.js";
import { planBisect, type BisectRequest } from "../run/bisect/plan.js";
import { KNOWN_NAMES } from "../run/registry.js";
import { onShutdown } from "./shutdown.js";

export const BISECT_USAGE = `usage: fwcompat bisect --good REF --bad REF [--by probe|traffic] [--repository REPO] [--backend nft|legacy]
                      [--scenario S --engine E --daemon D [--topology T]] [--matrix FILE] [--out DIR]
  Binary search over the commits between two refs of an iptables repository for the first
  commit judged bad (--good older) or good again (--bad older: the fixing commit).
  --by probe    each commit's build answers the hosts' -C self-probe (seconds per commit)
  --by traffic  each commit's build runs the whole cell: scenario, engine, daemon options (baseline)
  REPO: a git URL, a path, or a bundle in the local source directory (FWCOMPAT_SOURCE_DIR);
  default: the git source of the matrix's iptables builds.`;

const DEFAULT_MATRIX = new URL("../../matrix.yaml", import.meta.url).pathname;

function oneOfWords<T extends string>(value: string | undefined, words: readonly T[], option: string): T {
  const found = words.find((w) => w === value);
  if (!found) throw new UserError(`${option} '${value}': use ${words.join(" or ")}`);
  return found;
}

function parseBisectArgs(argv: string[]) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: false,
      options: {
        good: { type: "string" },
        bad: { type: "string" },
        by: { type: "string", default: "probe" },
        repository: { type: "string" },
        backend: { type: "string", default: "nft" },
        scenario: { type: "string" },
        engine: { type: "string" },
        daemon: { type: "string" },
        topology: { type: "string" },
        matrix: { type: "string" },
        out: { type: "string" },
        debug: { type: "boolean", default: false },
        help: { type: "boolean", default: false },
      },
    });
  } catch (error) {
    throw new UserError(`${(error as Error).message.split("\n")[0]}; ${BISECT_USAGE.split("\n")[0]}`);
  }
  const { values } = parsed;
  if (values.help) return { help: true as const };
  if (!values.good || !values.bad) throw new UserError(`bisect needs --good REF and --bad REF; ${BISECT_USAGE.split("\n")[0]}`);
  const by = oneOfWords(values.by, ["probe", "traffic"] as const, "--by");
  const backend = oneOfWords(values.backend, ["nft", "legacy"] as const, "--backend");
  const { good, bad, repository, scenario, engine, daemon, topology, matrix, out } = values;
  return { help: false as const, good, bad, by, backend, repository, scenario, engine, daemon, topology, matrix, out };
}

/** `fwcompat bisect`: 0 when the flip was found, 2 for bad input (one line), 1 when the harness failed. */
export async function bisectCommand(argv: string[], docker: Docker, log: (line: string) => void): Promise<number> {
  const args = parseBisectArgs(argv);
  if (args.help) {
    process.stdout.write(`${BISECT_USAGE}\n`);
    return 0;
  }
  const matrixFile = args.matrix ?? (existsSync("matrix.yaml") ? "matrix.yaml" : DEFAULT_MATRIX);
  const matrix = await loadMatrixFile(matrixFile, KNOWN_NAMES);
  const request: BisectRequest = { ...args, matrix, matrixFile };
  // Everything the user typed is checked against the repository before anything is built.
  const plan = await planBisect(request);
  await assertEngineReachable(docker);
  const { plans: basePlans, mirror } = await planBaseImages(docker, suitesNeeded(plan.cell ? [plan.cell.engine] : []), await machineDebianMirror(), matrix.settings.baseImage);

  const runId = `bisect-${new Date().toISOString().replace(/[-:T]/g, "").slice(0, 14)}-${randomBytes(3).toString("hex")}`;
  const outDir = resolve(args.out ?? join("results", runId));
  await mkdir(outDir, { recursive: true });
  const logFile = join(outDir, "bisect.log");
  // Harness detail (image builds, host steps) goes to bisect.log; the terminal gets one line per commit.
  const detail = (line: string) => appendFileSync(logFile, `[${new Date().toISOString().slice(11, 19)}] ${line}\n`);
  const say = (line: string) => {
    process.stdout.write(`${line}\n`);
    detail(line);
  };
  const providers: HostProvider[] = [];
  onShutdown(async () => {
    await Promise.allSettled([...providers.map((p) => p.close()), sweep(docker, runId)]);
  });
  log(`bisect ${runId}: results in ${outDir}`);

  const bases = new Map<string, string>();
  for (const basePlan of basePlans) bases.set(basePlan.suite, await ensureBaseImage(docker, basePlan, { suite: basePlan.suite, mirror, log: detail }));
  const hostFiles = await readHostFiles();
  const context: JudgeContext = {
    docker,
    runId,
    plan,
    settings: matrix.settings,
    cprobeScript: hostFiles[`bin/${HOST_TOOLS.checkProbe}`] as string,
    git: { docker, settings: matrix.settings, baseTag: bases.get("trixie") as string, wrappers: hostFiles[`bin/${HOST_TOOLS.makeWrappers}`] as string, log: detail },
  };
  const judge = plan.cell
    ? trafficJudge({
        ...context,
        cell: plan.cell,
        basePlans,
        debianMirror: mirror,
        onCell: async (result) => void (await writeCellResult(outDir, result)),
        onProvider: (provider) => providers.push(provider),
      })
    : probeJudge(context);
  try {
    await runBisect(plan, judge, { runId, outDir, say });
    log(`bisect.json, bisect.log${plan.cell ? " and the cells" : ""} in ${outDir}; fwcompat report ${outDir} renders them`);
    return 0;
  } catch (error) {
    if (error instanceof UserError) throw error;
    log(`bisect failed: ${(error as Error).message} (what was judged so far is in ${join(outDir, "bisect.json")})`);
    return 1;
  } finally {
    await sweep(docker, runId).catch(() => undefined);
  }
}
