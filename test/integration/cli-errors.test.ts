import { readdirSync } from "node:fs";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { labelledContainers, runCli } from "./cli.js";

const BAD = readdirSync(new URL("../fixtures/matrices/", import.meta.url)).filter((f) => f.startsWith("bad-"));

describe("the CLI on bad input and a bad environment", () => {
  it.each(BAD)("%s: one line with file:line:col, exit 2, no stack trace, nothing started", async (file) => {
    const before = await labelledContainers();
    const run = await runCli(["run", "--matrix", `test/fixtures/matrices/${file}`], { timeoutMs: 30_000 });
    expect(run.exitCode).toBe(2);
    expect(run.stderr.split("\n")).toHaveLength(1);
    expect(run.stderr).toMatch(new RegExp(`^fwcompat: test/fixtures/matrices/${file.replace(/\./g, "\\.")}:\\d+:\\d+: `));
    expect(run.stderr).not.toMatch(/\bat .*\.ts:\d+/);
    expect(await labelledContainers()).toBe(before);
  });

  it("--debug adds the stack trace to a user error", async () => {
    const run = await runCli(["run", "--debug", "--matrix", "test/fixtures/matrices/bad-unknown-fix.yaml"], { timeoutMs: 30_000 });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(/unknown fix 'reboot-the-world'[^]*\n\s+at /);
  });

  it("no permission on the engine's socket (as an unprivileged user)", async () => {
    const started = Date.now();
    const run = await execa("runuser", ["-u", "nobody", "--", process.execPath, "--import", "tsx", "src/cli/main.ts", "run"], {
      reject: false,
      cwd: new URL("../../", import.meta.url).pathname,
      env: { DOCKER_HOST: "unix:///var/run/docker.sock" },
    });
    expect(run.exitCode).toBe(2);
    expect(run.stderr.trim()).toBe("fwcompat: no permission on unix:///var/run/docker.sock; run as root or join the docker group");
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("an unreachable engine is named with its remedy within 5 s", async () => {
    const started = Date.now();
    const run = await runCli(["run", "--filter", "scenario=curl-timeout"], { timeoutMs: 30_000, env: { DOCKER_HOST: "unix:///nonexistent/docker.sock" } });
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
});

describe("a user's scenario file with a mistake", () => {
  it("is refused in one line at its own file:line:col, exit 2, nothing started", async () => {
    const before = await labelledContainers();
    const run = await runCli(["run", "--matrix", "test/fixtures/user-scenario-bad/matrix.yaml"], { timeoutMs: 30_000 });
    expect(run.exitCode).toBe(2);
    expect(run.stderr.trim()).toMatch(/^fwcompat: \/.*\/test\/fixtures\/user-scenario-bad\/scenarios\.d\/typo\.yaml:5:50: expect\.0\.vantage: Invalid option: expected one of "localhost"\|"host-ip"\|"external"$/);
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    expect(await labelledContainers()).toBe(before);
  });
});
