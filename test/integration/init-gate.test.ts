import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { cellResultSchema } from "../../src/results/schema.js";
import { scratchDir } from "../support/scratch.js";

// A new user's first gate, from the package as they get it: `npm pack`, installed into an empty
// directory, `fwcompat init` in another empty directory (their repository), then `fwcompat gate`
// on exactly what init wrote: one dind cell of their firewall script's scenario.
const ROOT = new URL("../../", import.meta.url).pathname;
const CELL = "my-firewall__dind__docker-28.5.2__1.8.11-2-nft__proxy-off__1-bridge";
let installDir = "";
let repo = "";
const fwcompat = (args: string[], timeoutMs: number) =>
  execa(join(installDir, "node_modules", ".bin", "fwcompat"), args, { cwd: repo, reject: false, timeout: timeoutMs });

async function cellOf(results: string) {
  const files = await readdir(join(repo, results, "cells"));
  expect(files).toEqual([`${CELL}.json`]);
  return cellResultSchema.parse(JSON.parse(await readFile(join(repo, results, "cells", `${CELL}.json`), "utf8")));
}

beforeAll(async () => {
  const packDir = await scratchDir("fwcompat-init-pack-");
  const pack = await execa("npm", ["pack", "--json", "--pack-destination", packDir], { cwd: ROOT, timeout: 180_000 });
  const [packed] = JSON.parse(pack.stdout) as Array<{ filename: string }>;
  if (!packed) throw new Error(`npm pack printed no package: ${pack.stdout}`);
  installDir = await scratchDir("fwcompat-init-install-");
  await execa("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", join(packDir, packed.filename)], {
    cwd: installDir,
    timeout: 600_000,
  });
  repo = await scratchDir("fwcompat-init-repo-");
  const init = await fwcompat(["init"], 60_000);
  if (init.exitCode !== 0) throw new Error(`fwcompat init failed: ${init.stderr}`);
}, 800_000);

describe("fwcompat init, then fwcompat gate on what it wrote", () => {
  it(
    "passes: the stub firewall script keeps the published port reachable from every vantage",
    async () => {
      const gate = await fwcompat(
        ["gate", "--expect", "fwcompat/expectations.yaml", "--out", "results-pass"],
        30 * 60_000,
      );
      expect(gate.exitCode, `${gate.stdout}\n${gate.stderr.slice(-3000)}`).toBe(0);
      expect(gate.stdout.trim().split("\n").at(-1)).toBe("gate passed: 1 expectation(s) held over 1 cell(s)");
      const cell = await cellOf("results-pass");
      expect(cell.status).toBe("works");
      // the user's script ran in the host, and traffic was judged after it
      expect(cell.baseline?.steps.find((s) => s.name === "break: my-firewall.sh")?.exitCode).toBe(0);
      expect(cell.baseline?.probes.length).toBeGreaterThan(0);
      expect(cell.baseline?.probes.filter((p) => !p.pass)).toEqual([]);
    },
    30 * 60_000,
  );

  it(
    "fails with the expectation's REGRESSION line once the script flushes FORWARD under dockerd",
    async () => {
      const script = join(repo, "fwcompat", "my-firewall.sh");
      await writeFile(script, `${await readFile(script, "utf8")}iptables -F FORWARD\n`);
      const gate = await fwcompat(
        ["gate", "--expect", "fwcompat/expectations.yaml", "--out", "results-fail"],
        30 * 60_000,
      );
      expect(gate.exitCode, `${gate.stdout}\n${gate.stderr.slice(-3000)}`).toBe(1);
      expect(gate.stdout).toMatch(
        new RegExp(
          `^REGRESSION my firewall keeps published ports working: ${CELL.replace(/[.+]/g, "\\$&")}: expected works, got reproduced \\([^)]*external: timeout`,
          "m",
        ),
      );
      expect(gate.stdout.trim().split("\n").at(-1)).toBe(
        "gate failed: 1 regression(s), 0 unchecked expectation(s) over 1 cell(s)",
      );
      const cell = await cellOf("results-fail");
      expect(cell.status).toBe("reproduced");
      expect(cell.brokenVantages).toContain("external");
    },
    30 * 60_000,
  );
});
