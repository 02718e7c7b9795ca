import { chmod, mkdir, readFile, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { analyseTrace } from "../../src/assertions/attribution.js";
import { parseTrace } from "../../src/assertions/trace.js";
import { SHIM_ENV } from "../../src/contract/host-contract.js";
import { compiledShimScratch } from "../support/shim.js";

const scratch = compiledShimScratch("fwcompat-nft-shim-");

describe("the shim as nft, run for real against a stub nft", () => {
  it("passes argv and the `nft -f -` script through unchanged and records the script with the call", async () => {
    const real = join(scratch.dir, "real");
    await mkdir(real);
    // the stand-in nft echoes its argv and whatever it read on stdin; a script with "bad" fails like nft does
    await writeFile(
      join(real, "nft"),
      `#!/bin/bash\necho "argv:$*"\nin=$(cat)\nprintf 'stdin:%s\\n' "$in"\n[[ $in == *bad* ]] && { echo 'Error: Could not process rule: No such file or directory' >&2; exit 1; }\nexit 0\n`,
    );
    await chmod(join(real, "nft"), 0o755);
    const nft = join(scratch.dir, "nft");
    await symlink(scratch.shim, nft);
    const env = {
      PATH: "/usr/bin:/bin",
      [SHIM_ENV.nftDir]: real,
      [SHIM_ENV.iptablesTrace]: join(scratch.dir, "trace"),
      [SHIM_ENV.shimErr]: join(scratch.dir, "err"),
    };
    const script =
      "table ip docker-bridges {\n\tchain filter-FORWARD {\n\t\ttype filter hook forward priority filter; policy accept;\n\t}\n}";
    const load = await execa(nft, ["-f", "-"], { env, extendEnv: false, input: script, reject: false });
    const list = await execa(nft, ["list", "ruleset"], { env, extendEnv: false, input: "", reject: false });
    const broken = await execa(nft, ["-f", "-"], { env, extendEnv: false, input: "add rule ip bad x", reject: false });

    expect(load.exitCode).toBe(0);
    expect(load.stdout).toBe(`argv:-f -\nstdin:${script}`);
    expect(list.stdout).toBe("argv:list ruleset\nstdin:");
    expect(broken.exitCode).toBe(1);
    expect(broken.stderr).toBe("Error: Could not process rule: No such file or directory");
    const calls = parseTrace(await readFile(join(scratch.dir, "trace"), "utf8"));
    expect(calls.map((c) => [c.tool, c.buildDir, c.args.join(" "), c.exitCode])).toEqual([
      ["nft", real, "-f -", 0],
      ["nft", real, "list ruleset", 0],
      ["nft", real, "-f -", 1],
    ]);
    // tabs in the script become spaces so the call stays one line; everything else is kept
    expect(calls[0]?.stdin).toBe(script.replace(/\t/g, " "));
    expect(calls[1]?.stdin).toBeUndefined();
    // none of them is dockerd's, so the analysis reports no failed nft call; as dockerd's, the failed load is one
    expect(analyseTrace(calls, {}).failedCalls).toEqual([]);
    const asDockerd = analyseTrace(
      calls.map((c) => ({ ...c, caller: "dockerd" })),
      {},
    );
    expect(asDockerd.dockerdNftCalls).toBe(3);
    expect(asDockerd.failedCalls.map((f) => f.rule)).toEqual(["nft -f - (add rule ip bad x…)"]);
  });
});
