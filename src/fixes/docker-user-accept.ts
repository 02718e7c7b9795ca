import type { Fix } from "../api/index.js";
import { ipCommand, iptables, mustStep } from "../api/index.js";

/** Bridges Docker does not own: everything but docker0 and its br-<id> networks. */
const FOREIGN_BRIDGES = `${ipCommand("-o link show type bridge")} | awk -F': ' '{print $2}' | cut -d@ -f1 | grep -v -E '^(docker0|br-[0-9a-f]{12})$' || true`;

/** Docker's documented place for the host's own rules: accept the foreign bridges' traffic in DOCKER-USER. */
export const dockerUserAccept: Fix = {
  name: "docker-user-accept",
  description:
    "for each bridge Docker does not own: DOCKER-USER accepts what comes from it and the replies going back to it",
  async apply(ctx) {
    const found = await mustStep(ctx.host, ctx.steps, "bridges Docker does not own", FOREIGN_BRIDGES);
    const bridges = found.stdout.split("\n").filter(Boolean);
    if (bridges.length === 0) return { applied: false, reason: "no bridge other than Docker's in this host" };
    const rules = bridges.flatMap((b) => [
      iptables(`-I DOCKER-USER -i ${b} -j ACCEPT`),
      iptables(`-I DOCKER-USER -o ${b} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`),
    ]);
    await mustStep(ctx.host, ctx.steps, "accept foreign bridges in DOCKER-USER", rules.join(" && "));
    return { applied: true, note: `DOCKER-USER accepts ${bridges.join(", ")}` };
  },
};
