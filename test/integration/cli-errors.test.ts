import { describe, expect, it } from "vitest";
import { labelledContainers, runCli } from "./cli.js";

describe("the CLI on bad input and a bad environment", () => {
  it("a bad matrix file: one line with file:line:col, exit 2, and nothing started", async () => {
    const before = await labelledContainers();
    const run = await runCli(["run", "--matrix", "test/fixtures/matrices/bad-unknown-fix.yaml"], { timeoutMs: 30_000 });
    expect(run.exitCode).toBe(2);
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    expect(run.stderr).toMatch(/^fwcompat: test\/fixtures\/matrices\/bad-unknown-fix\.yaml:\d+:\d+: unknown fix 'reboot-the-world'/);
    expect(run.stderr).not.toMatch(/\bat .*\.ts:\d+/);
    expect(await labelledContainers()).toBe(before);
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
