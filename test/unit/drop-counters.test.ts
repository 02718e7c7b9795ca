import { describe, expect, it } from "vitest";
import { droppedBetween, parseDropCounters } from "../../src/assertions/drop-counters.js";

const save = (isolation: number, policy: number) => `*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [${policy}:${policy * 60}]
[4:240] -A FORWARD -j DOCKER-USER
[${isolation}:${isolation * 60}] -A DOCKER-ISOLATION-STAGE-2 -o br-0a1b2c3d4e5f -j DROP
[0:0] -A ufw-user-input -p tcp --dport 8081 -j REJECT --reject-with tcp-reset
COMMIT
*nat
[9:540] -A DOCKER -p tcp --dport 8080 -j DNAT --to-destination 10.77.0.2:80
COMMIT
`;

const nft = (docker: number) => `table ip filter {
	chain FORWARD {
		counter packets 7 bytes 420 drop
	}
}
table ip docker-bridges {
	chain filter-forward {
		oifname "br-0a1b2c3d4e5f" counter packets ${docker} bytes ${docker * 60} drop comment "isolation"
		counter packets 12 bytes 720 accept
		tcp dport 8082 counter packets 5 bytes 300 reject with tcp reset
	}
}
`;

describe("drop counters", () => {
  it("counts the rules that drop and DROP policies, not rejecting or other rules, and no iptables-nft table twice", () => {
    const counters = parseDropCounters(save(2, 1), nft(3));
    expect([...counters.keys()].sort()).toEqual([
      "filter -A DOCKER-ISOLATION-STAGE-2 -o br-0a1b2c3d4e5f -j DROP",
      "filter FORWARD policy DROP",
      'table ip docker-bridges filter-forward: oifname "br-0a1b2c3d4e5f" drop comment "isolation"',
    ]);
  });

  it("names the rules whose counters grew, most packets first", () => {
    const moved = droppedBetween(parseDropCounters(save(2, 1), nft(3)), parseDropCounters(save(4, 1), nft(6)));
    expect(moved).toEqual([
      {
        rule: 'table ip docker-bridges filter-forward: oifname "br-0a1b2c3d4e5f" drop comment "isolation"',
        packets: 3,
      },
      { rule: "filter -A DOCKER-ISOLATION-STAGE-2 -o br-0a1b2c3d4e5f -j DROP", packets: 2 },
    ]);
    expect(droppedBetween(parseDropCounters(save(2, 1), ""), parseDropCounters(save(2, 1), ""))).toEqual([]);
  });
});
