import { describe, expect, it } from "vitest";
import { engineSchema } from "../../src/config/schema.js";
import { recipeTag } from "../../src/harness/images/build-image.js";
import { dockerProxyOrigin, mobyTreeOf } from "../../src/harness/images/moby-layout.js";
import { mobyBuildRecipe, type MobySourceEngine } from "../../src/harness/images/moby-recipe.js";

// File lists as `tar -t` prints them for the moby archives (a few of their entries).
const moby29 = ["moby-29.7.2/", "moby-29.7.2/go.mod", "moby-29.7.2/cmd/docker-proxy/main_linux.go"];
const moby28 = [
  "moby-28.0.1/",
  "moby-28.0.1/vendor.mod",
  "moby-28.0.1/cmd/docker-proxy/",
  "moby-28.0.1/cmd/docker-proxy/main_linux.go",
];
const moby2010 = ["moby-20.10.24/", "moby-20.10.24/vendor.conf", "moby-20.10.24/cmd/dockerd/docker.go"];

const engine = engineSchema.parse({
  name: "docker-28.0.1",
  version: "28.0.1",
  source: {
    kind: "moby-source",
    file: "moby-v28.0.1.tar.xz",
    sha256: "c506e8bfb9aed850a4b173f6edc4e309e68c5a41c3bc4ad827218988f6064b4b",
    commit: "bbd0a17ccc67e48d4a69393287b7fcc4f0578683",
    tag: "v28.0.1",
  },
}) as MobySourceEngine;
const recipe = (layout: "module" | "gopath") =>
  mobyBuildRecipe(engine, "fwcompat/base:sid-x", Buffer.from("archive"), "moby-28.0.1", layout);

describe("a moby tree's layout, read from its files", () => {
  it("module mode with a go.mod (29 on), GOPATH mode without (vendor.mod in 23.0-28.x, vendor.conf in 20.10)", () => {
    expect(mobyTreeOf(moby29, "moby-29.7.2")).toEqual({ layout: "module", dockerProxy: true });
    expect(mobyTreeOf(moby28, "moby-28.0.1")).toEqual({ layout: "gopath", dockerProxy: true });
    expect(mobyTreeOf(moby2010, "moby-20.10.24")).toEqual({ layout: "gopath", dockerProxy: false });
  });

  it("a go.mod deeper in the tree (vendored modules) does not make it a module", () => {
    expect(mobyTreeOf([...moby28, "moby-28.0.1/vendor/github.com/x/y/go.mod"], "moby-28.0.1").layout).toBe("gopath");
  });

  it("every tag from 20.10 to 29.x has a layout and a docker-proxy: GOPATH before 29, module from 29; the 20.10 proxy from the suite's docker.io", () => {
    const moby23 = ["moby-23.0.0/", "moby-23.0.0/vendor.mod", "moby-23.0.0/cmd/docker-proxy/main_linux.go"];
    const decisions = [
      [moby2010, "moby-20.10.24"],
      [moby23, "moby-23.0.0"],
      [moby28, "moby-28.0.1"],
      [moby29, "moby-29.7.2"],
    ].map(([paths, prefix]) => {
      const tree = mobyTreeOf(paths as string[], prefix as string);
      return [prefix, tree.layout, dockerProxyOrigin(tree)];
    });
    expect(decisions).toEqual([
      ["moby-20.10.24", "gopath", "suite-package"],
      ["moby-23.0.0", "gopath", "tree"],
      ["moby-28.0.1", "gopath", "tree"],
      ["moby-29.7.2", "module", "tree"],
    ]);
  });
});

describe("the engine build recipe per layout", () => {
  it("a tree without cmd/docker-proxy (20.10) compiles dockerd only and takes docker-proxy from the suite's docker.io, recorded", () => {
    const dockerfile = mobyBuildRecipe(
      engine,
      "fwcompat/base:bookworm-x",
      Buffer.from("a"),
      "moby-20.10.24",
      "gopath",
      "suite-package",
    ).dockerfile;
    expect(dockerfile).toContain("for cmd in dockerd; do");
    expect(dockerfile).toContain("apt-get download docker.io && dpkg-deb -x docker.io_*.deb .");
    expect(dockerfile).toMatch(/printf 'docker-proxy=Debian sid docker.io %s\\n'/);
    expect(recipe("gopath").dockerfile).toContain("for cmd in dockerd docker-proxy; do");
    expect(recipe("gopath").dockerfile).not.toContain("apt-get download docker.io");
  });

  it("GOPATH layout: the tree at $GOPATH/src/github.com/docker/docker, GO111MODULE=off, stamped under github.com/docker/docker", () => {
    const dockerfile = recipe("gopath").dockerfile;
    expect(dockerfile).toContain("ENV GOPATH=/go GO111MODULE=off");
    expect(dockerfile).toContain("mv /src/moby-28.0.1 /go/src/github.com/docker/docker");
    expect(dockerfile).toContain("WORKDIR /go/src/github.com/docker/docker");
    expect(dockerfile).toContain("mod=github.com/docker/docker;");
    expect(dockerfile).toContain('-X $mod/dockerversion.Version=28.0.1 -X $mod/dockerversion.GitCommit=bbd0a17"');
    expect(dockerfile).not.toContain("-mod=vendor");
    expect(dockerfile).toContain('grep -qxF "Docker version 28.0.1, build bbd0a17"');
  });

  it("module layout: built where it was unpacked, -mod=vendor, stamped under the module path its go.mod names", () => {
    const dockerfile = recipe("module").dockerfile;
    expect(dockerfile).toContain("ENV GOFLAGS=-mod=vendor");
    expect(dockerfile).toContain("WORKDIR /src/moby-28.0.1");
    expect(dockerfile).toContain("mod=$(sed -n 's/^module //p' go.mod);");
    expect(dockerfile).not.toContain("GO111MODULE");
  });

  it("records the layout in the provenance file, and the layout is part of the image's content hash", () => {
    expect(recipe("gopath").dockerfile).toMatch(/printf 'tag=%s\\ncommit=%s\\ngo=%s\\nlayout=%s\\n.*"gopath"/);
    expect(recipeTag(recipe("gopath"))).not.toBe(recipeTag(recipe("module")));
    expect(recipeTag(recipe("gopath"))).toBe(recipeTag(recipe("gopath")));
  });
});
