import type { Fix, FixOutcome, ScenarioContext } from "../../scenarios/api.js";
import type { IptablesBuild } from "../config/schema.js";
import { mustStep, runStep, writeDaemonJson } from "../harness/host-ops.js";
import { compareVersions } from "./versions.js";

const restartDockerd = (ctx: ScenarioContext) => mustStep(ctx.host, ctx.steps, "restart dockerd", "fwcompat-dockerd restart", 90_000);

async function switchIptables(ctx: ScenarioContext, build: IptablesBuild, backend: "nft" | "legacy"): Promise<FixOutcome> {
  const from = `${ctx.current.build.name} (${ctx.current.backend})`;
  await mustStep(ctx.host, ctx.steps, `select iptables ${build.name} ${backend}`, `fwcompat-select-iptables ${build.name} ${backend}`);
  ctx.current = { ...ctx.current, build, backend };
  // A package upgrade does not re-add rules dockerd skipped; operators restart the engine after it.
  await restartDockerd(ctx);
  return { applied: true, note: `iptables ${from} -> ${build.name} (${backend}), then dockerd restarted` };
}

/** Each fix is what an operator would type, applied to the broken host; traffic decides whether it worked. */
export const FIXES: ReadonlyMap<string, Fix> = new Map(
  (
    [
      {
        name: "restart-dockerd",
        description: "stop and start dockerd in the same network namespace (containers have restart=unless-stopped)",
        async apply(ctx) {
          await restartDockerd(ctx);
          return { applied: true };
        },
      },
      {
        name: "recreate-docker-chains",
        description: "the field report's advice: create the DOCKER chain in filter and nat, nothing else",
        async apply(ctx) {
          await runStep(ctx.host, ctx.steps, "create DOCKER chains", "iptables -w -t filter -N DOCKER; iptables -w -t nat -N DOCKER; true");
          return { applied: true };
        },
      },
      {
        name: "userland-proxy-on",
        description: "set userland-proxy: true in daemon.json and restart dockerd",
        async apply(ctx) {
          if (ctx.current.daemonOptions["userland-proxy"] !== false) return { applied: false, reason: "userland-proxy is already on" };
          ctx.current.daemonOptions = { ...ctx.current.daemonOptions, "userland-proxy": true };
          await writeDaemonJson(ctx.host, ctx.steps, ctx.current.daemonOptions);
          await restartDockerd(ctx);
          return { applied: true };
        },
      },
      {
        name: "iptables-upgrade",
        description: "switch to the newest iptables build in the matrix that is newer than the cell's, then restart dockerd",
        async apply(ctx) {
          const newer = ctx.builds.filter((b) => compareVersions(b.version, ctx.current.build.version) > 0);
          const target = newer.sort((a, b) => compareVersions(b.version, a.version))[0];
          if (!target) return { applied: false, reason: `no available build newer than ${ctx.current.build.version}` };
          return switchIptables(ctx, target, ctx.current.backend);
        },
      },
      {
        name: "iptables-downgrade",
        description: "switch to the newest available build older than 1.8.11 (1.8.10 when obtainable), then restart dockerd",
        async apply(ctx) {
          const older = ctx.builds.filter((b) => compareVersions(b.version, "1.8.11") < 0 && compareVersions(b.version, ctx.current.build.version) < 0);
          const target = older.sort((a, b) => compareVersions(b.version, a.version))[0];
          if (!target) return { applied: false, reason: `no available build older than 1.8.11 and ${ctx.current.build.version}` };
          return switchIptables(ctx, target, ctx.current.backend);
        },
      },
      {
        name: "switch-to-legacy",
        description: "same build, legacy (x_tables) backend, then restart dockerd; nft rules already loaded stay in the kernel",
        async apply(ctx) {
          if (ctx.current.backend === "legacy") return { applied: false, reason: "already on the legacy backend" };
          return switchIptables(ctx, ctx.current.build, "legacy");
        },
      },
      {
        name: "ip-forward-on",
        description: "sysctl -w net.ipv4.ip_forward=1 (no restart)",
        async apply(ctx) {
          await mustStep(ctx.host, ctx.steps, "forwarding on", "sysctl -w net.ipv4.ip_forward=1");
          return { applied: true };
        },
      },
    ] satisfies Fix[]
  ).map((fix) => [fix.name, fix]),
);
