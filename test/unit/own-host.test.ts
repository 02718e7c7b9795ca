import { describe, expect, it } from "vitest";
import { USERLAND } from "../../src/contract/host-contract.js";
import {
  missingLines,
  ownHostRecipe,
  prerequisitesRecipe,
  withLocalDebianBases,
} from "../../src/harness/images/own-host.js";
import type { Engine } from "../../src/config/schema.js";

const engine: Engine = {
  name: "debian12-stock",
  version: "20.10.24",
  source: { kind: "dockerfile", dockerfile: "/x/Dockerfile", buildArgs: {} },
};

describe("FROM debian:<suite> without a registry", () => {
  const bases = new Map([["bookworm", "fwcompat/base:bookworm-debootstrap-0123"]]);

  it("points each FROM debian:<suite> fwcompat has a base for at that base, keeping the stage name", () => {
    const { text, substituted } = withLocalDebianBases(
      "FROM debian:bookworm AS build\nRUN true\nfrom --platform=linux/amd64 debian:bookworm\n",
      bases,
    );
    expect(text).toBe(
      "FROM fwcompat/base:bookworm-debootstrap-0123 AS build\nRUN true\nfrom --platform=linux/amd64 fwcompat/base:bookworm-debootstrap-0123\n",
    );
    expect(substituted).toEqual([
      "debian:bookworm -> fwcompat/base:bookworm-debootstrap-0123",
      "debian:bookworm -> fwcompat/base:bookworm-debootstrap-0123",
    ]);
  });

  it("leaves other images, other tags of Debian, and suites it has no base for as written", () => {
    const dockerfile = "FROM debian:bookworm-slim\nFROM debian:trixie\nFROM ubuntu:26.04\nFROM my/debian:bookworm\n";
    expect(withLocalDebianBases(dockerfile, bases)).toEqual({ text: dockerfile, substituted: [] });
  });
});

describe("an own host's prerequisites", () => {
  it("are checked with fwcompat-userland, and dockerd must say the claimed version (a distribution's suffix allowed)", () => {
    const recipe = prerequisitesRecipe(engine, "fwcompat/own-host:debian12-stock-1", "#!/bin/sh\n");
    expect(recipe.dockerfile).toContain(`RUN /usr/local/sbin/${USERLAND.check} && `);
    const pattern = /grep -Eq '([^']+)'/.exec(recipe.dockerfile)?.[1] as string;
    expect(new RegExp(pattern).test("Docker version 20.10.24+dfsg1, build 297e128")).toBe(true);
    expect(new RegExp(pattern).test("Docker version 20.10.240, build 1")).toBe(false);
  });

  it("reads the missing-tool lines out of a failed build's log, and nothing else", () => {
    const log = [
      "Step 3/3 : RUN fwcompat-userland check",
      "missing: curl (the probes)",
      "missing: nsenter (probes)",
      "The command returned 2",
    ];
    expect(missingLines(log.join("\n"))).toEqual(["missing: curl (the probes)", "missing: nsenter (probes)"]);
  });
});

describe("an own host's image", () => {
  it("layers fwcompat's tools on the checked image, wraps each system build, and starts under fwcompat's own init", () => {
    const recipe = ownHostRecipe(
      engine,
      "fwcompat/own-host-checked:debian12-stock-1",
      [
        {
          build: {
            name: "1.8.11-2",
            version: "1.8.11-2",
            source: { kind: "debian", suite: "trixie", version: "1.8.11-2" },
            alternatives: [],
          },
          tag: "fwcompat/iptables:1.8.11-2-x",
        },
      ],
      [{ name: "system-1.8.9", version: "1.8.9", source: { kind: "system" }, alternatives: [] }],
      { scripts: {}, shimTag: "fwcompat/shim:x", staticTag: "fwcompat/own-host-tools:y" },
    );
    const lines = recipe.dockerfile.split("\n");
    expect(lines[0]).toBe("FROM fwcompat/own-host-checked:debian12-stock-1");
    expect(lines).toContain(
      "COPY --from=fwcompat/iptables:1.8.11-2-x /opt/fwcompat/iptables/1.8.11-2 /opt/fwcompat/iptables/1.8.11-2",
    );
    expect(lines).toContain(`RUN /usr/local/sbin/${USERLAND.wrap("/opt/fwcompat/iptables/system-1.8.9", "1.8.9")}`);
    // a userland without busybox gets fwcompat's static one on its PATH, before the facts are read
    const busybox = lines.findIndex((l) => l.includes("ln -s /opt/fwcompat/tools/busybox /usr/local/bin/busybox"));
    expect(busybox).toBeGreaterThan(0);
    expect(lines[busybox]).toMatch(/^RUN command -v busybox >\/dev\/null \|\| /);
    expect(lines.findIndex((l) => l.includes(USERLAND.facts))).toBeGreaterThan(busybox);
    expect(lines.find((l) => l.startsWith("ENTRYPOINT"))).toBe(
      'ENTRYPOINT ["/opt/fwcompat/tools/tini", "--", "/usr/local/sbin/fwcompat-hostd"]',
    );
  });
});
