import type { Fix } from "../api/index.js";
import { writeDaemonJson } from "../api/index.js";
import { restartDockerdStep } from "./restart-dockerd.js";

export const userlandProxyOn: Fix = {
  name: "userland-proxy-on",
  description: "set userland-proxy: true in daemon.json and restart dockerd",
  async apply(ctx) {
    if (ctx.current.daemonOptions["userland-proxy"] !== false)
      return { applied: false, reason: "userland-proxy is already on" };
    ctx.current.daemonOptions = { ...ctx.current.daemonOptions, "userland-proxy": true };
    await writeDaemonJson(ctx.host, ctx.steps, ctx.current.daemonOptions);
    await restartDockerdStep(ctx);
    return { applied: true };
  },
};
