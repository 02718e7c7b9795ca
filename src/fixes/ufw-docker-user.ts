import type { Fix } from "../api/index.js";
import { ipCommand, iptables, mustStep, runStep } from "../api/index.js";

/**
 * Makes ufw decide about traffic to containers: DOCKER-USER (which Docker consults before its
 * own rules) sends new connections arriving on the uplink through ufw's route rules and drops
 * the rest; each published port ufw allows becomes a route rule for its container (after
 * Docker's DNAT, FORWARD sees the container's address and port, not the published one).
 */
export const ufwDockerUser: Fix = {
  name: "ufw-docker-user",
  description:
    "DOCKER-USER passes new inbound connections through ufw's route rules and drops the rest; ufw-allowed published ports become route rules",
  async apply(ctx) {
    const status = await runStep(ctx.host, ctx.steps, "ufw status", "ufw status");
    if (!/^Status: active/m.test(status.stdout)) return { applied: false, reason: "ufw is not active in this host" };
    const allowed = new Set([...status.stdout.matchAll(/^(\d+)\/tcp\s+ALLOW\b/gm)].map((m) => Number(m[1])));
    const routes = ctx.targets
      .filter((t) => t.hostPort !== undefined && allowed.has(t.hostPort))
      .map((t) => `ufw route allow proto tcp from any to ${t.ip} port 80`);
    const uplink = `$(${ipCommand("route show default")} | awk '{print $5; exit}')`;
    await mustStep(
      ctx.host,
      ctx.steps,
      "ufw decides in DOCKER-USER",
      [
        ...routes,
        `up=${uplink}`,
        iptables("-I DOCKER-USER 1 -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN"),
        iptables(`-I DOCKER-USER 2 -i "$up" -m conntrack --ctstate NEW -j ufw-user-forward`),
        iptables(`-I DOCKER-USER 3 -i "$up" -m conntrack --ctstate NEW -j DROP`),
      ].join(" && "),
    );
    return {
      applied: true,
      note: `route rules for ${routes.length} allowed published port(s); other new inbound connections to containers dropped`,
    };
  },
};
