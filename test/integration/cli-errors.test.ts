import { existsSync, readdirSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { containersCreatedBy, runCli } from "../support/cli.js";
import { scratchDir } from "../support/scratch.js";

const BAD = readdirSync(new URL("../fixtures/matrices/", import.meta.url)).filter((f) => f.startsWith("bad-"));

describe("the CLI on bad input and a bad environment", () => {
  it.each(BAD)("%s: one line with file:line:col, exit 2, no stack trace, nothing started", async (file) => {
    const child = runCli(["run", "--matrix", `test/fixtures/matrices/${file}`], { timeoutMs: 30_000 });
    const run = await child;
    expect(run.exitCode).toBe(2);
    expect(run.stderr.split("\n")).toHaveLength(1);
    expect(run.stderr).toMatch(
      new RegExp(`^fwcompat: test/fixtures/matrices/${file.replace(/\./g, "\\.")}:\\d+:\\d+: `),
    );
    expect(run.stderr).not.toMatch(/\bat .*\.ts:\d+/);
    expect(await containersCreatedBy(child.pid)).toBe(0);
  });

  it("--debug adds the stack trace to a user error", async () => {
    const run = await runCli(["run", "--debug", "--matrix", "test/fixtures/matrices/bad-unknown-fix.yaml"], {
      timeoutMs: 30_000,
    });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(/unknown fix 'reboot-the-world'[^]*\n\s+at /);
  });

  it("no permission on the engine's socket (as an unprivileged user)", async () => {
    const started = Date.now();
    const run = await execa(
      "runuser",
      ["-u", "nobody", "--", process.execPath, "--import", "tsx", "src/cli/main.ts", "run"],
      {
        reject: false,
        cwd: new URL("../../", import.meta.url).pathname,
        env: { DOCKER_HOST: "unix:///var/run/docker.sock" },
      },
    );
    expect(run.exitCode).toBe(2);
    expect(run.stderr.trim()).toBe(
      "fwcompat: no permission on unix:///var/run/docker.sock; run as root or join the docker group",
    );
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("an unreachable engine is named with its remedy within 5 s", async () => {
    const started = Date.now();
    const run = await runCli(["run", "--filter", "scenario=curl-timeout"], {
      timeoutMs: 30_000,
      env: { DOCKER_HOST: "unix:///nonexistent/docker.sock" },
    });
    expect(run.exitCode).toBe(2);
    expect(run.stderr.trim()).toBe(
      "fwcompat: no Docker engine at unix:///nonexistent/docker.sock (ENOENT); start dockerd (see README: .ci/run does it) or set DOCKER_HOST",
    );
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("an unknown option gives the usage, exit 2", async () => {
    const run = await runCli(["run", "--colour"], { timeoutMs: 30_000 });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(/^fwcompat: Unknown option '--colour'/);
  });

  it("an alias bomb is bad input: one line naming where its aliases start, exit 2, answered at once", async () => {
    const started = Date.now();
    const run = await runCli(["run", "--matrix", "test/fixtures/matrices/bad-alias-bomb.yaml"], { timeoutMs: 30_000 });
    expect(run.exitCode).toBe(2);
    expect(run.stderr.trim()).toBe(
      "fwcompat: test/fixtures/matrices/bad-alias-bomb.yaml:4:8: YAML aliases expand beyond 100 nodes (an alias bomb?); write the values out instead",
    );
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("--out below a regular file: one line, exit 2, nothing started or created", async () => {
    const dir = await scratchDir("fwcompat-out-");
    await writeFile(join(dir, "a-file"), "");
    const child = runCli(["run", "--filter", "scenario=curl-timeout", "--out", join(dir, "a-file", "results")], {
      timeoutMs: 30_000,
    });
    const run = await child;
    expect(run.exitCode).toBe(2);
    expect(run.stderr.trim()).toBe(
      `fwcompat: --out ${join(dir, "a-file", "results")}: ${join(dir, "a-file")} is a file, not a directory; choose another output directory`,
    );
    expect(await containersCreatedBy(child.pid)).toBe(0);
    expect(readdirSync(dir)).toEqual(["a-file"]);
  });

  it("--resume of a directory that does not exist: one line, exit 2, the directory is not created", async () => {
    const missing = join(await scratchDir("fwcompat-resume-"), "no-such-run");
    const child = runCli(["run", "--resume", missing], { timeoutMs: 30_000 });
    const run = await child;
    expect(run.exitCode).toBe(2);
    expect(run.stderr.trim()).toBe(
      `fwcompat: --resume ${missing}: no such directory; pass the output directory of an earlier run`,
    );
    expect(existsSync(missing)).toBe(false);
    expect(await containersCreatedBy(child.pid)).toBe(0);
  });
});

describe("a user's scenario file with a mistake", () => {
  it("is refused in one line at its own file:line:col, exit 2, nothing started", async () => {
    const child = runCli(["run", "--matrix", "test/fixtures/user-scenario-bad/matrix.yaml"], { timeoutMs: 30_000 });
    const run = await child;
    expect(run.exitCode).toBe(2);
    expect(run.stderr.trim()).toMatch(
      /^fwcompat: \/.*\/test\/fixtures\/user-scenario-bad\/scenarios\.d\/typo\.yaml:5:50: expect\.0\.vantage: Invalid option: expected one of "localhost"\|"host-ip"\|"external"$/,
    );
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    expect(await containersCreatedBy(child.pid)).toBe(0);
  });
});
