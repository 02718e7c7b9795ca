import { describe, expect, it } from "vitest";
import { downloadsAllowed, downloadsSetting } from "../../src/config/downloads.js";

describe("the downloads setting in force", () => {
  it("is FWCOMPAT_ALLOW_DOWNLOADS when set, else the matrix's", () => {
    expect(downloadsSetting("auto", {})).toBe("auto");
    expect(downloadsSetting("auto", { FWCOMPAT_ALLOW_DOWNLOADS: "" })).toBe("auto");
    expect(downloadsSetting("auto", { FWCOMPAT_ALLOW_DOWNLOADS: "false" })).toBe(false);
    expect(downloadsSetting(false, { FWCOMPAT_ALLOW_DOWNLOADS: "true" })).toBe(true);
    expect(downloadsSetting(true, { FWCOMPAT_ALLOW_DOWNLOADS: "auto" })).toBe("auto");
  });

  it("refuses any other value in one line", () => {
    expect(() => downloadsSetting("auto", { FWCOMPAT_ALLOW_DOWNLOADS: "yes" })).toThrow(
      "FWCOMPAT_ALLOW_DOWNLOADS=yes: expected true, false or auto",
    );
  });

  it("auto downloads only what is pinned by content", () => {
    expect([downloadsAllowed("auto", true), downloadsAllowed("auto", false)]).toEqual([true, false]);
    expect([downloadsAllowed(true, false), downloadsAllowed(false, true)]).toEqual([true, false]);
  });
});
