import { describe, expect, it } from "vitest";
import { parseIpv4Addresses } from "../../src/harness/vagrant/libvirt.js";
import { MEMORY_RESERVE_BYTES, VM_MEMORY_BYTES, vmConcurrencyFor } from "../../src/harness/vagrant/concurrency.js";
import { controlPath } from "../../src/harness/vagrant/ssh.js";
import { settingsSchema } from "../../src/config/schema.js";

const GIB = 2 ** 30;

describe("VM lane pieces", () => {
  it("reads the leased address from virsh's tables (as printed by libvirt 9.0)", () => {
    const domifaddr = [
      " Name       MAC address          Protocol     Address",
      "-------------------------------------------------------------------------------",
      " vnet0      52:54:00:68:94:cf    ipv4         10.242.161.182/24",
      "",
    ].join("\n");
    const leases = [
      " Expiry Time           MAC address         Protocol   IP address          Hostname      Client ID or DUID",
      "--------------------------------------------------------------------------------------------------------",
      " 2026-11-24 08:43:58   52:54:00:68:94:cf   ipv4       10.242.161.182/24   fwcompat-vm   ff:40:56:63:a2:00:02",
      " 2026-11-24 08:43:59   52:54:00:68:94:d0   ipv6       fd00::5/64          fwcompat-vm   00:04:aa",
      "",
    ].join("\n");
    expect(parseIpv4Addresses(domifaddr)).toEqual(["10.242.161.182"]);
    expect(parseIpv4Addresses(leases)).toEqual(["10.242.161.182"]);
    // a domain that has not leased yet prints the header only
    expect(parseIpv4Addresses(domifaddr.split("\n").slice(0, 2).join("\n"))).toEqual([]);
  });

  it("runs as many VMs as memory holds after the reserve, at most one per core, at least one", () => {
    expect(vmConcurrencyFor(20.7 * GIB, 2)).toBe(2); // this machine kind: 24 GiB, 2 cores
    expect(vmConcurrencyFor(20.7 * GIB, 16)).toBe(8);
    expect(vmConcurrencyFor(MEMORY_RESERVE_BYTES + 3 * VM_MEMORY_BYTES, 16)).toBe(3);
    expect(vmConcurrencyFor(MEMORY_RESERVE_BYTES + 3 * VM_MEMORY_BYTES - 1, 16)).toBe(2);
    expect(vmConcurrencyFor(3 * GIB, 4)).toBe(1);
    expect(vmConcurrencyFor(0, 4)).toBe(1);
  });

  it("takes vmConcurrency auto (the default) or a number from 1 to 8", () => {
    expect(settingsSchema.parse({}).vmConcurrency).toBe("auto");
    expect(settingsSchema.parse({ vmConcurrency: 1 }).vmConcurrency).toBe(1);
    expect(settingsSchema.safeParse({ vmConcurrency: 0 }).success).toBe(false);
    expect(settingsSchema.safeParse({ vmConcurrency: "all" }).success).toBe(false);
  });

  it("keeps the ssh control socket under the 108-byte limit of unix socket paths", () => {
    // a VM's name: fwc-<run id>-<6 hex>, the run id a timestamp and 6 hex
    expect(controlPath("fwc-20261124074149-9d9b36-91beaa").length).toBeLessThan(108);
  });
});
