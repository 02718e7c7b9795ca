import { downloadsAllowed } from "../../config/downloads.js";
import type { Engine, IptablesBuild, IptablesSource, Settings } from "../../config/schema.js";
import type { MissingSource } from "../../results/missing-source.js";
import { debFileName } from "./deb-source.js";

const isUrl = (spec: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(spec) || /^[^/\s]+@[^/\s]+:/.test(spec);

/** What a local source directory could hold for one iptables source, and whether it has an online route. */
function iptablesRoutes(source: IptablesSource): { files: string[]; online: boolean } {
  switch (source.kind) {
    case "debian":
      return { files: [], online: false };
    case "git":
      return isUrl(source.repository)
        ? { files: [], online: true }
        : { files: source.repository.includes("/") ? [] : [source.repository], online: false };
    case "tarball":
      return { files: [source.file], online: source.urls.length > 0 };
    case "deb":
      return { files: [source.url, ...source.libraries.map((l) => l.url)].map(debFileName), online: true };
    case "system":
      return { files: [], online: false };
  }
}

/** The missing source of a build none of whose sources could be had. */
export function missingBuild(build: IptablesBuild, settings: Pick<Settings, "allowDownloads">): MissingSource {
  const routes = [build.source, ...build.alternatives].map(iptablesRoutes);
  return {
    axis: "iptables",
    name: build.name,
    label: `iptables ${build.name}`,
    files: [...new Set(routes.flatMap((r) => r.files))],
    onlineRoute: routes.some((r) => r.online),
    downloadsAllowed: downloadsAllowed(settings.allowDownloads, true),
  };
}

/** The missing source of an engine whose archive or binaries could not be had. */
export function missingEngine(engine: Engine, settings: Pick<Settings, "allowDownloads">): MissingSource {
  const source = engine.source;
  const files =
    source.kind === "moby-source"
      ? [source.file]
      : source.kind === "static"
        ? [new URL(source.url).pathname.split("/").pop() ?? "docker.tgz"]
        : [];
  return {
    axis: "engine",
    name: engine.name,
    label: `Docker ${engine.version}`,
    files,
    onlineRoute: source.kind === "static" || (source.kind === "moby-source" && source.urls.length > 0),
    downloadsAllowed: downloadsAllowed(settings.allowDownloads, true),
  };
}
