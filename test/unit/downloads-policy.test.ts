import { describe, expect, it } from "vitest";
import { downloadsAllowed } from "../../src/config/downloads.js";
import { settingsSchema } from "../../src/config/schema.js";
import { locateRepository } from "../../src/harness/git/repository.js";

describe("settings.allowDownloads", () => {
  it("defaults to auto: routes pinned by content download, others do not", () => {
    const setting = settingsSchema.parse({}).allowDownloads;
    expect(setting).toBe("auto");
    expect(downloadsAllowed(setting, true)).toBe(true);
    expect(downloadsAllowed(setting, false)).toBe(false);
    expect(downloadsAllowed(true, false)).toBe(true);
    expect(downloadsAllowed(false, true)).toBe(false);
  });

  it("a git URL under auto: cloned for a build pinned to a commit, not for an unpinned ref", async () => {
    const url = "https://git.example.invalid/iptables";
    expect(await locateRepository(url, { allowDownloads: "auto" }, true)).toEqual({
      ok: true,
      location: url,
      remote: true,
    });
    expect(await locateRepository(url, { allowDownloads: "auto" })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(
        /not pinned by content, so not downloaded \(settings\.allowDownloads: auto; true allows it\)/,
      ),
    });
  });
});
