import { describe, expect, it } from "vitest";
import { firstDebianUri } from "../../src/harness/apt-mirror.js";
import { missingCapabilities } from "../../src/harness/capabilities.js";
import { compareVersions } from "../../src/config/versions.js";
import { matchErrors } from "../../src/assertions/error-matchers.js";
import { escapeCell } from "../../src/results/markdown.js";
import { recipeTag } from "../../src/harness/images/build-image.js";

describe("small pure pieces", () => {
  it("orders iptables versions, packaging revisions after the plain release", () => {
    const sorted = ["1.8.13-1", "1.8.9-2", "1.8.11-2", "1.8.10", "1.8.11"].sort(compareVersions);
    expect(sorted).toEqual(["1.8.9-2", "1.8.10", "1.8.11", "1.8.11-2", "1.8.13-1"]);
  });

  it("reads the Debian mirror from deb822 and one-line apt sources", () => {
    expect(firstDebianUri("Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm")).toBe(
      "http://mirror.example/debian",
    );
    expect(firstDebianUri("deb [arch=amd64] http://mirror.example/debian/ bookworm main")).toBe(
      "http://mirror.example/debian/",
    );
    expect(firstDebianUri("URIs: http://mirror.example/debian-security")).toBeUndefined();
  });

  it("names the capabilities a bounding set lacks", () => {
    expect(missingCapabilities("000001fffeffffff")).toEqual(["SYS_RESOURCE"]);
    expect(missingCapabilities("000001ffffffffff")).toEqual([]);
  });

  it("matches the field report's error text exactly", () => {
    const stderr =
      "docker: Error response from daemon: driver failed programming external connectivity on endpoint late1 (abc): " +
      "(iptables failed: iptables --wait -t nat -A DOCKER -p tcp -d 0/0 --dport 8084 -j DNAT --to-destination 10.77.0.3:80 ! -i docker0: iptables: No chain/target/match by that name.\n (exit status 1)).";
    const found = matchErrors("after flush: docker run -p", stderr);
    expect(found.map((f) => f.signature)).toEqual(["no-chain"]);
    expect(matchErrors("s", "iptables v1.8.11 (nf_tables): Chain 'DOCKER' does not exist")[0]?.signature).toBe(
      "chain-does-not-exist",
    );
    expect(matchErrors("s", "all good\nnothing to see")).toEqual([]);
    // a kernel without the legacy modules, in the two ways dockerd quotes it
    for (const words of [
      "iptables -t nat -N DOCKER: modprobe: FATAL: Module ip_tables not found in directory /lib/modules/6.12.117+deb13-amd64",
      "iptables v1.8.11 (legacy): can't initialize iptables table `nat': Table does not exist (do you need to insmod?)",
    ])
      expect(matchErrors("s", words).map((f) => f.signature)).toEqual(["legacy-table-missing"]);
    expect(found[0]?.text).toMatch(
      /^docker: Error response from daemon: driver failed programming external connectivity .*No chain\/target\/match by that name\.$/,
    );
  });

  it("escapes container output in Markdown cells", () => {
    expect(escapeCell("a|b <script>\n*x*")).toBe("a\\|b \\<script\\> \\*x\\*");
  });

  it("an image tag changes with any input of its recipe", () => {
    const recipe = { repo: "fwcompat/x", tagPrefix: "t", dockerfile: "FROM a", files: { f: "1" } };
    expect(recipeTag(recipe)).toBe(recipeTag({ ...recipe }));
    expect(recipeTag(recipe)).not.toBe(recipeTag({ ...recipe, files: { f: "2" } }));
    expect(recipeTag(recipe)).not.toBe(recipeTag({ ...recipe, extraKeys: ["base"] }));
    expect(recipeTag(recipe)).toMatch(/^fwcompat\/x:t-[0-9a-f]{16}$/);
  });
});
