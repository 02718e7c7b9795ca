import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { UserError } from "../errors.js";
import type { Problem } from "./cross-references.js";
import { declarativeScenarioSchema, type DeclarativeScenario, type LoadedScenario } from "./schema.js";
import { parseYamlWithSchema, type LocatedYaml } from "./yaml-schema.js";

/** Files copied into a host travel through exec arguments: keep them to scripts and configs. */
const MAX_FILE_BYTES = 1024 * 1024;

/** What the schema cannot check inside one declarative scenario; paths are relative to the scenario. */
export function declarativeProblems(def: DeclarativeScenario): Problem[] {
  const problems: Problem[] = [];
  const seen = new Set<string>();
  def.deploy?.forEach((c, i) => {
    if (seen.has(c.name))
      problems.push({
        path: ["deploy", i, "name"],
        message: `container '${c.name}' is deployed twice; names must be unique`,
      });
    seen.add(c.name);
  });
  const published = new Set([...(def.deploy ?? []).filter((c) => c.publish !== undefined).map((c) => c.name)]);
  def.userActions.forEach((action, i) => {
    if (typeof action === "string") return;
    if (action.publish !== undefined && !action.container)
      problems.push({
        path: ["userActions", i, "publish"],
        message: "publish needs the container the action starts (container: <name>)",
      });
    if (action.container && action.publish !== undefined) published.add(action.container);
  });
  def.expect.forEach((e, i) => {
    if (e.because && e.expect !== "blocked")
      problems.push({
        path: ["expect", i, "because"],
        message: "because names the policy that must block the traffic; use it with expect: blocked",
      });
    // Without a deploy list the containers are the cell topology's (n0c1, n1c1, ...), checked when the scenario runs.
    if (def.deploy && !published.has(e.container)) {
      problems.push({
        path: ["expect", i, "container"],
        message: `no published container '${e.container}'; published: ${[...published].join(", ") || "(none)"}`,
      });
    }
  });
  return problems;
}

function fail(located: LocatedYaml, path: PropertyKey[], message: string): never {
  throw new UserError(`${located.locate(path)}: ${message}`);
}

/** Checks one declarative scenario and reads the files it copies into the host; problems become one UserError at file:line:col. */
function load(def: DeclarativeScenario, located: LocatedYaml, prefix: PropertyKey[], source: string): LoadedScenario {
  const problem = declarativeProblems(def)[0];
  if (problem) fail(located, [...prefix, ...problem.path], problem.message);
  const files = def.files.map((f, i) => {
    const path = resolve(dirname(source), f.from);
    const at = [...prefix, "files", i, "from"];
    let size: number;
    try {
      size = statSync(path).size;
    } catch {
      fail(located, at, `cannot read '${path}'; paths are relative to ${source}`);
    }
    if (size > MAX_FILE_BYTES)
      fail(located, at, `'${path}' is ${size} bytes; files copied into a host are limited to ${MAX_FILE_BYTES}`);
    return { ...f, base64: readFileSync(path).toString("base64") };
  });
  return { ...def, files, source };
}

/** The scenarios a matrix declares inline (at `scenarios`) and one per *.yaml file of its scenarioDir. */
export function loadDeclarativeScenarios(
  matrix: { scenarios: DeclarativeScenario[]; scenarioDir?: string | undefined },
  matrixFile: string,
  located: LocatedYaml,
  builtIn: ReadonlySet<string>,
): LoadedScenario[] {
  const loaded = matrix.scenarios.map((def, i) => ({
    scenario: load(def, located, ["scenarios", i], matrixFile),
    located,
    at: ["scenarios", i, "name"] as PropertyKey[],
  }));
  if (matrix.scenarioDir !== undefined) {
    const dir = resolve(dirname(matrixFile), matrix.scenarioDir);
    let names: string[];
    try {
      names = readdirSync(dir)
        .filter((n) => /\.ya?ml$/.test(n))
        .sort();
    } catch {
      fail(
        located,
        ["scenarioDir"],
        `cannot read the scenario folder '${dir}'; scenarioDir is relative to ${matrixFile}`,
      );
    }
    if (names.length === 0) fail(located, ["scenarioDir"], `the scenario folder '${dir}' has no *.yaml files`);
    for (const name of names) {
      const file = join(dir, name);
      const parsed = parseYamlWithSchema(readFileSync(file, "utf8"), file, declarativeScenarioSchema);
      loaded.push({ scenario: load(parsed.data, parsed.located, [], file), located: parsed.located, at: ["name"] });
    }
  }
  const seen = new Map<string, string>();
  for (const { scenario, located: where, at } of loaded) {
    if (builtIn.has(scenario.name))
      fail(where, at, `'${scenario.name}' is a built-in scenario; give yours another name`);
    const earlier = seen.get(scenario.name);
    if (earlier) fail(where, at, `scenario '${scenario.name}' is already declared in ${earlier}; names must be unique`);
    seen.set(scenario.name, scenario.source);
  }
  return loaded.map((l) => l.scenario);
}
