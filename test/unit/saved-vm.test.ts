import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectEvery } from "../support/quantifiers.js";

// The cache directory is read when the module loads: point it at a scratch directory first.
const states = await mkdtemp(join(tmpdir(), "fwcompat-vm-states-"));
process.env.FWCOMPAT_VM_STATES = states;
const { acquireSlot, restorableNetworkXml, savedVmKey, slotName } =
  await import("../../src/harness/vagrant/saved-vm.js");

// what `virsh net-dumpxml` printed for a network vagrant-libvirt made (libvirt 9.0)
const NETWORK_XML = `<network connections='1'>
  <name>fwc-0123abcd-vm01</name>
  <uuid>5d0e2a3c-8c2b-4f7e-9d8a-1b2c3d4e5f60</uuid>
  <forward mode='open'/>
  <bridge name='virbr1' stp='on' delay='0'/>
  <mac address='52:54:00:3a:7c:11'/>
  <ip address='10.231.17.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='10.231.17.1' end='10.231.17.254'/>
    </dhcp>
  </ip>
</network>
`;

describe("saved VMs", () => {
  beforeAll(async () => {
    await mkdir(states, { recursive: true });
  });
  afterAll(async () => {
    await rm(states, { recursive: true, force: true });
  });

  it("keys a saved VM by everything that makes it, in any order", () => {
    const parts = { box: "fwcompat/trixie-adb93d6bcad326aa", driver: "qemu", cpus: 1, memory: 1024 };
    const key = savedVmKey(parts);
    expect(key).toMatch(/^[0-9a-f]{16}$/);
    expect(savedVmKey({ memory: 1024, cpus: 1, driver: "qemu", box: "fwcompat/trixie-adb93d6bcad326aa" })).toBe(key);
    expect(savedVmKey({ ...parts, box: "fwcompat/trixie-0000000000000000" })).not.toBe(key);
    expect(savedVmKey({ ...parts, driver: "kvm" })).not.toBe(key);
  });

  it("names slots so that no name is a prefix of another (the clean-up matches domains by prefix)", () => {
    const names = Array.from({ length: 32 }, (_, i) => slotName("0123abcdef", i + 1));
    expect(names[0]).toBe("fwc-0123abcd-vm01");
    for (const a of names) for (const b of names) if (a !== b) expect(b.startsWith(a)).toBe(false);
  });

  it("recreates a network with its addresses and MAC but no UUID, any free bridge and no STP", () => {
    const xml = restorableNetworkXml(NETWORK_XML);
    expect(xml).not.toMatch(/uuid/);
    expect(xml).toMatch(/<bridge stp='off' delay='0'\/>/);
    expect(xml).toContain("<name>fwc-0123abcd-vm01</name>");
    expect(xml).toContain("<mac address='52:54:00:3a:7c:11'/>");
    expect(xml).toContain("<ip address='10.231.17.1' netmask='255.255.255.0'>");
  });

  it("hands each VM a slot of its own, saved ones first, and takes over the lock of a process that is gone", async () => {
    const key = "aaaabbbbccccdddd";
    const first = await acquireSlot(key);
    const second = await acquireSlot(key);
    expect([first.ready, second.ready]).toEqual([false, false]);
    expect(first.name).not.toBe(second.name);
    // the second slot gets saved and released; the first stays in use
    await writeFile(join(second.dir, "ready"), "now");
    await second.release();
    const third = await acquireSlot(key);
    expect(third.name).toBe(second.name);
    expect(third.ready).toBe(true);
    // a lock left by a process that no longer exists does not keep a slot
    await writeFile(join(first.dir, "ready"), "now");
    const dead = JSON.parse(await readFile(join(first.dir, "lock"), "utf8")) as { hostname: string };
    await writeFile(join(first.dir, "lock"), JSON.stringify({ pid: 2 ** 22 + 1, hostname: dead.hostname }));
    await third.release();
    const both = [await acquireSlot(key), await acquireSlot(key)];
    expect(both.map((s) => s.name).sort()).toEqual([first.name, second.name].sort());
    expectEvery(both, (s) => s.ready);
    await Promise.all(both.map((s) => s.release()));
  });

  it("keeps the saved VMs of the three most recently used other keys and of keys a live process uses; removes the rest", async () => {
    const key = (digit: number) => String(digit).repeat(16);
    const inUse = await acquireSlot(key(1));
    for (const digit of [2, 3, 4, 5]) await (await acquireSlot(key(digit))).release();
    // last used: the one in use longest ago, then 2, 3, 4 and 5 (a minute ago)
    const secondsAgo = [7200, 5400, 3600, 1800, 60];
    for (const [index, seconds] of secondsAgo.entries()) {
      const at = new Date(Date.now() - seconds * 1000);
      await utimes(join(states, key(index + 1)), at, at);
    }
    const current = await acquireSlot(key(6));
    expect([1, 2, 3, 4, 5, 6].map((digit) => existsSync(join(states, key(digit))))).toEqual([
      true,
      false,
      true,
      true,
      true,
      true,
    ]);
    await Promise.all([inUse.release(), current.release()]);
  });
});
