import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DindContainer, type StartedDindContainer } from "fwcompat";

describe.each([
  { iptables: "1.8.11-2", external: "ok" },
  { iptables: "1.8.11", external: "timeout" },
])("Docker 28.5.2 with iptables $iptables (nft), userland-proxy off", ({ iptables, external }) => {
  let host: StartedDindContainer;

  beforeAll(async () => {
    host = await new DindContainer({
      engine: "docker-28.5.2",
      iptables,
      backend: "nft",
      daemon: { "userland-proxy": false },
    }).start();
  }, 15 * 60_000);

  afterAll(async () => {
    await host?.stop();
  });

  it(`a port published on a user bridge network, probed from outside the host: ${external}`, async () => {
    const run = await host.sh(
      "docker network create net1 && docker run -d --network net1 -p 8081:80 fwcompat/workload",
    );
    expect(run.exitCode, run.stderr).toBe(0);
    expect((await host.probe({ port: 8081 }, "host-ip")).outcome).toBe("ok");
    expect((await host.probe({ port: 8081 }, "external")).outcome).toBe(external);
    // upstream 1.8.11's `iptables -C` ignores interfaces: dockerd skips the bridge's rule
    expect((await host.iptablesSave()).includes("-A DOCKER-BRIDGE -o br-")).toBe(external === "ok");
  }, 60_000);
});
