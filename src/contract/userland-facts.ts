import { USERLAND } from "./host-contract.js";

export interface UserlandFacts {
  os: string;
  tools: Array<Record<(typeof USERLAND.factFields)[number], string>>;
  alternatives: Array<{ name: string; target: string }>;
}

/** What `fwcompat-userland facts` printed; undefined when it printed no os= line (not that tool's output). */
export function parseUserlandFacts(text: string): UserlandFacts | undefined {
  let os: string | undefined;
  const tools: UserlandFacts["tools"] = [];
  const alternatives: UserlandFacts["alternatives"] = [];
  for (const line of text.split("\n")) {
    const eq = line.indexOf("=");
    if (eq < 1) continue;
    const [key, value] = [line.slice(0, eq), line.slice(eq + 1)];
    if (key === "os") os = value;
    else if (key === "tool") {
      const values = value.split("|");
      if (values.length !== USERLAND.factFields.length) continue;
      tools.push(
        Object.fromEntries(USERLAND.factFields.map((f, i) => [f, values[i] ?? ""])) as UserlandFacts["tools"][number],
      );
    } else if (key === "alternative") {
      const [name = "", target = ""] = value.split("|");
      alternatives.push({ name, target });
    }
  }
  return os === undefined ? undefined : { os, tools, alternatives };
}
