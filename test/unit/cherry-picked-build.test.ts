import { describe, expect, it } from "vitest";
import { loadCatalogueFile, parseCatalogueText } from "../../src/config/catalogue.js";
import type { CommitInfo } from "../../src/harness/git/repository.js";
import { recipeTag } from "../../src/harness/images/build-image.js";
import { gitIptablesRecipe, gitNameProblem, gitProvenance } from "../../src/harness/images/git-recipe.js";
import { commitOfBuild } from "../../src/run/prepare-host.js";
import { packagedCatalogueFile } from "../../src/run/session/catalogue-file.js";
import { thrown } from "../support/thrown.js";

const V1_8_11 = "0506bea1dcc8f12d94e7c32bf2fb04abb3fdd269";
const FIX = "40406dbfaefbc204134452b2747bae4f6a122848";
const FIX_SUBJECT = "nft: fix interface comparisons in `-C` commands";

const atV1811: CommitInfo = {
  commit: V1_8_11,
  describe: "v1.8.11",
  exactTag: "v1.8.11",
  subject: "build: Bump version to 1.8.11",
  date: "2024-11-08T22:00:00+01:00",
  author: "A. Author",
};
const patches = [{ commit: FIX, subject: FIX_SUBJECT }];

describe("a distribution build: an upstream tag with upstream commits cherry-picked on top", () => {
  it("is in the shipped catalogue as 1.8.11+fix: v1.8.11 pinned by commit, 40406dbf picked, claiming 1.8.11", () => {
    const build = loadCatalogueFile(packagedCatalogueFile()).iptables.get("1.8.11+fix");
    expect(build).toEqual({
      name: "1.8.11+fix",
      version: "1.8.11",
      source: {
        kind: "git",
        repository: "iptables-upstream.bundle",
        ref: "v1.8.11",
        commit: V1_8_11,
        cherryPicks: [FIX],
      },
      alternatives: [],
    });
  });

  it("takes only full commit ids to pick, refused at their file:line:col", () => {
    const text = `version: 1
iptables:
  - name: "1.8.11+fix"
    version: 1.8.11
    source: { kind: git, repository: r.bundle, ref: v1.8.11, commit: ${V1_8_11}, cherryPicks: [40406dbf] }
`;
    expect(thrown(() => parseCatalogueText(text, "c.yaml"))).toMatch(
      /^c\.yaml:5:\d+: iptables\.0\.source\.cherryPicks\.0: a full 40-digit commit id/,
    );
  });

  it("must be named apart from the release it patches", () => {
    expect(gitNameProblem({ name: "1.8.11", version: "1.8.11" }, atV1811, [FIX])).toBe(
      'build 1.8.11 has 1 cherry-pick(s) on top of v1.8.11: name it apart from the release (e.g. "1.8.11+fix")',
    );
    expect(gitNameProblem({ name: "1.8.11+fix", version: "1.8.11" }, atV1811, [FIX])).toBeUndefined();
    // and the tag must still be the release it claims
    expect(gitNameProblem({ name: "1.8.12+fix", version: "1.8.12" }, atV1811, [FIX])).toMatch(
      /claims 1\.8\.12, but its commit is tag v1\.8\.11/,
    );
  });

  it("records each pick's commit and subject in its provenance, read back as the cell's evidence", () => {
    const provenance = gitProvenance(atV1811, patches);
    expect(provenance).toContain(`patch=${FIX} ${FIX_SUBJECT}\n`);
    expect(provenance).toMatch(
      /^package=upstream git v1\.8\.11 \(commit 0506bea1dcc8, 2024-11-08\): build: Bump version to 1\.8\.11 \+ cherry-picked 40406dbfaefb \(nft: fix interface comparisons in `-C` commands\)$/m,
    );
    expect(commitOfBuild(`${provenance}version=iptables v1.8.11 (nf_tables)\n`)).toEqual({
      iptablesCommit: { commit: V1_8_11, describe: "v1.8.11", subject: atV1811.subject, date: atV1811.date },
      iptablesPatches: patches,
    });
    // a build without picks has no patches in its evidence
    expect(commitOfBuild(gitProvenance(atV1811))).not.toHaveProperty("iptablesPatches");
  });

  it("is an image of its own: the picks are part of the image's key, beside the tag's commit", () => {
    const recipe = (picked: typeof patches) =>
      gitIptablesRecipe(
        { name: "1.8.11+fix" },
        { toolchainTag: "t", baseTag: "b" },
        Buffer.from("tree"),
        atV1811,
        "wrappers",
        picked,
      );
    expect(recipe(patches).extraKeys).toEqual(["t", "b", V1_8_11, FIX]);
    expect(recipe([]).extraKeys).toEqual(["t", "b", V1_8_11]);
    expect(String(recipe(patches).files?.provenance)).toContain(`patch=${FIX} `);
    // a Docker tag takes no +: the build's name is kept readable in it all the same
    expect(recipeTag(recipe(patches))).toMatch(/^fwcompat\/iptables:1\.8\.11_fix-[0-9a-f]{16}$/);
  });
});
