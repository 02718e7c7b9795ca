import { existsSync, readdirSync, readFileSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { validateAction, validateWorkflow } from "@action-validator/core";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { scratchDir } from "../support/scratch.js";

/**
 * The reusable action as another repository uses it: checked against GitHub's schema, then
 * its shell steps run for real here (the `uses:` steps, setup-node and upload-artifact, are
 * GitHub's own), with the expressions GitHub would fill in and real gate runs behind them.
 */
const ROOT = new URL("../../", import.meta.url).pathname;
const ACTION = readFileSync(join(ROOT, "action.yml"), "utf8");

interface Step {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  env?: Record<string, string>;
}

async function runAction(
  inputs: Record<string, string>,
): Promise<{ outputs: Record<string, string>; summary: string; verdictExit: number; log: string }> {
  const action = parse(ACTION) as {
    inputs: Record<string, { default?: string }>;
    outputs: Record<string, { value: string }>;
    runs: { steps: Step[] };
  };
  const temp = await scratchDir("fwcompat-action-");
  const summaryFile = join(temp, "summary.md");
  await writeFile(summaryFile, "");
  const stepOutputs: Record<string, Record<string, string>> = {};
  const withDefaults = Object.fromEntries(
    Object.entries(action.inputs).map(([name, spec]) => [name, inputs[name] ?? spec.default ?? ""]),
  );
  const expand = (text: string) =>
    text.replace(/\$\{\{\s*([\w.-]+)\s*\}\}/g, (_, expr: string) => {
      const [scope, a, b, c] = expr.split(".");
      if (scope === "github" && a === "action_path") return ROOT.replace(/\/$/, "");
      if (scope === "runner" && a === "temp") return temp;
      if (scope === "inputs" && a) return withDefaults[a] ?? "";
      if (scope === "steps" && a && b === "outputs" && c) return stepOutputs[a]?.[c] ?? "";
      throw new Error(`expression not simulated: ${expr}`);
    });
  let verdictExit = -1;
  let log = "";
  for (const step of action.runs.steps) {
    if (!step.run || step.name === "Install fwcompat") continue;
    const outputFile = join(temp, `output-${step.id ?? "step"}`);
    await writeFile(outputFile, "");
    const env = Object.fromEntries(Object.entries(step.env ?? {}).map(([k, v]) => [k, expand(v)]));
    const run = await execa("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", expand(step.run)], {
      cwd: ROOT,
      reject: false,
      timeout: 20 * 60_000,
      env: { ...env, RUNNER_TEMP: temp, GITHUB_OUTPUT: outputFile, GITHUB_STEP_SUMMARY: summaryFile, CI: "true" },
    });
    log += `--- ${step.name}: exit ${run.exitCode}\n${run.stdout}\n${run.stderr}\n`;
    if (step.id)
      stepOutputs[step.id] = Object.fromEntries(
        (await readFile(outputFile, "utf8"))
          .split("\n")
          .filter(Boolean)
          .map((l) => l.split(/=(.*)/s).slice(0, 2) as [string, string]),
      );
    if (step.name === "Verdict") verdictExit = run.exitCode ?? -1;
    else expect(run.exitCode, log).toBe(0);
  }
  const outputs = Object.fromEntries(Object.entries(action.outputs).map(([name, spec]) => [name, expand(spec.value)]));
  return { outputs, summary: await readFile(summaryFile, "utf8"), verdictExit, log };
}

beforeAll(async () => {
  await execa("npm", ["run", "build", "--silent"], { cwd: ROOT });
}, 120_000);

describe("the reusable action (action.yml)", () => {
  it("passes GitHub's action schema, and every workflow passes the workflow schema", () => {
    expect(validateAction(ACTION).errors).toEqual([]);
    const dir = join(ROOT, ".github", "workflows");
    for (const file of readdirSync(dir))
      expect(validateWorkflow(readFileSync(join(dir, file), "utf8")).errors, file).toEqual([]);
  });

  it(
    "on a candidate that meets the expectations: verdict passed, report in the step summary and on disk",
    async () => {
      const { outputs, summary, verdictExit, log } = await runAction({
        expectations: "test/fixtures/expectations/pass.yaml",
        candidate: "iptables=1.8.11-2",
        filters: "provider=dind",
      });
      expect(outputs.verdict, log).toBe("passed");
      expect(verdictExit).toBe(0);
      expect(summary).toContain("## fwcompat gate: passed");
      expect(summary).toContain("gate passed: 1 expectation(s) held over 1 cell(s)");
      expect(summary).toMatch(
        /\| curl-timeout \| docker-28\.5\.2 \| 1\.8\.11-2 \(nft\) \| correct \| proxy-off \| works \|/,
      );
      expect(existsSync(join(outputs["report-path"] as string, "index.html"))).toBe(true);
      expect(existsSync(join(outputs["report-path"] as string, "junit.xml"))).toBe(true);
    },
    20 * 60_000,
  );

  it(
    "on a regression: verdict regressed, the regression line in the summary, the step fails after the report is written",
    async () => {
      const { outputs, summary, verdictExit, log } = await runAction({
        expectations: "test/fixtures/expectations/regression.yaml",
        candidate: "iptables=1.8.11",
      });
      expect(outputs.verdict, log).toBe("regressed");
      expect(verdictExit).toBe(1);
      expect(summary).toMatch(
        /^REGRESSION upstream 1\.8\.11 must keep published ports working: curl-timeout__dind__docker-28\.5\.2__1\.8\.11-nft__proxy-off__3-bridges: expected works, got reproduced/m,
      );
      expect(summary).toMatch(
        /\| curl-timeout \| docker-28\.5\.2 \| 1\.8\.11 \(nft\) \| buggy \| proxy-off \| reproduced \|/,
      );
      expect(readFileSync(join(outputs["report-path"] as string, "report.md"), "utf8")).toContain("reproduced");
    },
    20 * 60_000,
  );

  it("on bad input: verdict error with the one-line reason in the summary, and the step fails", async () => {
    const { outputs, summary, verdictExit } = await runAction({ expectations: "no/such/expectations.yaml" });
    expect(outputs.verdict).toBe("error");
    expect(verdictExit).toBe(2);
    expect(summary).toMatch(/^fwcompat: .*no\/such\/expectations\.yaml/m);
  }, 60_000);
});
