import { iptablesSave, mustStep, TIMEOUT_MS } from "../src/api/index.js";
import type { Scenario, ScenarioContext } from "../src/api/index.js";
import { beforeDockerd, cellIptablesSystemWide, requireTools } from "./lib/host-setup.js";
import { standardProbes } from "./lib/probes.js";
import { deployTopology } from "./lib/topology.js";

/** The one published port the operator opens in ufw: the cell's first (the default bridge's container). */
const allowedPort = (ctx: ScenarioContext) => ctx.cell.topology.basePort;

const enableUfw = (ctx: ScenarioContext) =>
  `ufw allow ${allowedPort(ctx)}/tcp && ufw --force enable && ufw status verbose`;

/**
 * Debian's ufw with its default policies (deny incoming, allow outgoing, deny routed) and one
 * port allowed, enabled before dockerd starts (as at boot) or under a running dockerd. Every
 * other published port is one ufw denies: if it answers from outside, Docker's rules bypassed
 * ufw's policy, a security finding.
 */
export const ufw: Scenario = {
  name: "ufw",
  variants: ["before", "after"],
  // the field's usual case: ufw enabled at boot, then `docker run -p` publishes past its policy
  defaultVariant: "before",
  description:
    "ufw enabled with its default policies and one port allowed, before dockerd starts or under it; denied published ports must stay closed",
  async setUp(ctx, variant = "before") {
    await requireTools(ctx, ["ufw"]);
    await cellIptablesSystemWide(ctx);
    if (variant === "before") {
      await beforeDockerd(ctx, () =>
        mustStep(ctx.host, ctx.steps, "ufw enable (before dockerd)", enableUfw(ctx), TIMEOUT_MS.hostFirewall),
      );
      await deployTopology(ctx);
    } else {
      await deployTopology(ctx);
      ctx.rulesBeforeBreak = await iptablesSave(ctx.host);
      await mustStep(ctx.host, ctx.steps, "ufw enable (under dockerd)", enableUfw(ctx), TIMEOUT_MS.hostFirewall);
    }
  },
  probes: (ctx) =>
    standardProbes(ctx, (target, vantage) =>
      vantage === "external" && target.hostPort !== allowedPort(ctx)
        ? {
            expect: "blocked",
            guard: `ufw denies ${target.hostPort}/tcp (default policy: deny incoming; only ${allowedPort(ctx)}/tcp allowed)`,
          }
        : undefined,
    ),
};
