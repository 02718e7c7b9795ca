import { describe, expect, it } from "vitest";
import { classify, parseProbeOutput, probeOrder, probeScript, type ProbeSpec } from "../../src/assertions/probe.js";

const spec = (over: Partial<ProbeSpec> = {}): ProbeSpec => ({
  vantage: "external",
  target: "fwc-net1/n1c1 :8081",
  command: (ms) => `curl -sS -m ${ms / 1000} http://192.0.2.1:8081/cgi-bin/id`,
  expectAnswer: "n1c1",
  expect: "reachable",
  ...over,
});

describe("probe classification", () => {
  it("maps curl and busybox wget failures onto one vocabulary", () => {
    expect(classify(0, "")).toBe("ok");
    expect(classify(28, "curl: (28) Connection timed out after 3001 milliseconds")).toBe("timeout");
    expect(classify(1, "wget: download timed out")).toBe("timeout");
    expect(classify(124, "")).toBe("error");
    expect(classify(143, "")).toBe("error");
    expect(classify(7, "curl: (7) Failed to connect to 10.0.0.1 port 80: Connection refused")).toBe("refused");
    expect(classify(1, "wget: can't connect to remote host (10.78.1.2): Connection refused")).toBe("refused");
    expect(classify(56, "curl: (56) Recv failure: Connection reset by peer")).toBe("reset");
    expect(classify(6, "curl: (6) Could not resolve host")).toBe("error");
  });

  it("parses the batch output, checks who answered and judges against the expectation", () => {
    const specs = [
      spec(),
      spec({ target: "b" }),
      spec({ target: "c", vantage: "cross-network", expect: "blocked" }),
      spec({ target: "d" }),
    ];
    const stdout = [
      "0|0|12|n1c1|",
      "1|0|15|n2c1|",
      "2|28|3002||curl: (28) Connection timed out after 3002 milliseconds",
      "",
    ].join("\n");
    const results = parseProbeOutput(specs, { exitCode: 0, stdout, stderr: "", ms: 3100 });
    expect(results.map((r) => [r.outcome, r.pass, r.ms])).toEqual([
      ["ok", true, 12],
      ["error", false, 15],
      ["timeout", true, 3002],
      ["error", false, 0],
    ]);
    expect(results[1]?.detail).toBe("answered by 'n2c1', expected 'n1c1'");
    expect(results[3]?.detail).toMatch(/no answer from the probe script/);
  });

  it("runs every probe of a batch in parallel and waits for all", () => {
    const script = probeScript([spec(), spec({ target: "b" })], 1500);
    expect(script.match(/\) &$/gm)).toHaveLength(2);
    expect(script.match(/curl -sS -m 1.5 /g)).toHaveLength(2);
    expect(script.trim().endsWith("wait")).toBe(true);
  });
});

describe("probe order", () => {
  const vantages = ["localhost", "host-ip", "external", "cross-network"] as const;

  it("is a permutation of the vantages, the same for the same seed and repeat", () => {
    const order = probeOrder(vantages, "seed-a:cell", 0);
    expect([...order].sort()).toEqual([...vantages].sort());
    expect(probeOrder(vantages, "seed-a:cell", 0)).toEqual(order);
  });

  it("differs between the repeats of a cell: 24 repeats see all 24 orders of four vantages", () => {
    const seen = new Set(Array.from({ length: 24 }, (_, i) => probeOrder(vantages, "seed-a:cell", i).join(",")));
    expect(seen.size).toBe(24);
    expect(probeOrder(vantages, "seed-a:cell", 1)).not.toEqual(probeOrder(vantages, "seed-a:cell", 0));
  });

  it("handles fewer vantages (a topology with one network has no cross-network probe)", () => {
    const three = new Set(Array.from({ length: 6 }, (_, i) => probeOrder(["a", "b", "c"], "s", i).join("")));
    expect(three.size).toBe(6);
    expect(probeOrder(["only"], "s", 5)).toEqual(["only"]);
  });
});
