import { describe, expect, it } from "vitest";
import type { IptablesBuild } from "../../src/config/schema.js";
import { DOWNGRADE_BELOW, downgradeTarget } from "../../src/fixes/iptables-downgrade.js";
import { upgradeTarget } from "../../src/fixes/iptables-upgrade.js";

const build = (name: string, version = name): IptablesBuild => ({
  name,
  version,
  source: { kind: "debian", suite: "sid", version },
  alternatives: [],
});
// Named as the default matrix names them: "1.8.9" is Debian's 1.8.9-2.
const b189 = build("1.8.9", "1.8.9-2");
const b1810 = build("1.8.10");
const b1811 = build("1.8.11");
const b18112 = build("1.8.11-2");
const b18131 = build("1.8.13-1");
const all = [b18131, b189, b18112, b1810, b1811];
const names = (b: IptablesBuild | undefined) => b?.name;

describe("iptables-upgrade picks the newest build newer than the cell's", () => {
  it("over the default matrix's builds", () => {
    expect(names(upgradeTarget(all, b1811))).toBe("1.8.13-1");
    expect(names(upgradeTarget(all, b189))).toBe("1.8.13-1");
    expect(upgradeTarget(all, b18131)).toBeUndefined();
  });

  it("depends on what is available, not on the cell's version alone", () => {
    expect(names(upgradeTarget([b1811, b18112], b1811))).toBe("1.8.11-2");
    expect(names(upgradeTarget([b189, b1810, b1811], b189))).toBe("1.8.11");
    expect(upgradeTarget([b189, b1811], b1811)).toBeUndefined();
  });

  it("a packaging revision is newer than its plain release", () => {
    expect(names(upgradeTarget([b1811, b18112, b1810], b1811))).toBe("1.8.11-2");
    expect(upgradeTarget([b1811, b1810], b18112)).toBeUndefined();
  });
});

describe(`iptables-downgrade picks the newest build older than ${DOWNGRADE_BELOW} and the cell's`, () => {
  it("over the default matrix's builds", () => {
    expect(names(downgradeTarget(all, b1811))).toBe("1.8.10");
    expect(names(downgradeTarget(all, b18112))).toBe("1.8.10");
    expect(names(downgradeTarget(all, b18131))).toBe("1.8.10");
    expect(names(downgradeTarget(all, b1810))).toBe("1.8.9");
    expect(downgradeTarget(all, b189)).toBeUndefined();
  });

  it("without 1.8.10 (unobtainable offline) it falls back to the next older build, or to none", () => {
    const offline = [b189, b1811, b18112, b18131];
    expect(names(downgradeTarget(offline, b1811))).toBe("1.8.9");
    expect(downgradeTarget([b1811, b18112, b18131], b18112)).toBeUndefined();
  });

  it("never picks 1.8.11 itself or anything newer, even from a newer cell", () => {
    expect(downgradeTarget([b1811, b18112], b18131)).toBeUndefined();
  });
});
