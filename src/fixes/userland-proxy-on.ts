import type { Fix, FixStart } from "../api/index.js";
import { unlessNotApplicable } from "./firewall-backend.js";
import { writeDaemonJson } from "../api/index.js";
import { restartDockerdStep } from "./restart-dockerd.js";

export const userlandProxyOn: Fix = {
  name: "userland-proxy-on",
  description: "set userland-proxy: true in daemon.json and restart dockerd",
  notApplicable,
  apply: unlessNotApplicable(notApplicable, async (ctx) => {
    ctx.current.daemonOptions = { ...ctx.current.daemonOptions, "userland-proxy": true };
    await writeDaemonJson(ctx.host, ctx.steps, ctx.current.daemonOptions);
    await restartDockerdStep(ctx);
    return { applied: true };
  }),
};

function notApplicable(start: FixStart): string | undefined {
  return start.current.daemonOptions["userland-proxy"] !== false ? "userland-proxy is already on" : undefined;
}
