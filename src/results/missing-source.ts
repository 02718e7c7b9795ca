/**
 * A build or engine whose source no route could supply (not a failed build): what a local
 * source directory could hold instead, and whether an online route exists and was allowed.
 * The end of a run says these in one line per kind of remedy, not once per cell.
 */
export interface MissingSource {
  axis: "iptables" | "engine";
  /** the build's or engine's name, as cells name it */
  name: string;
  /** how a person names it, e.g. "Docker 29.7.2", "iptables 1.8.10" */
  label: string;
  /** file names a local source directory (FWCOMPAT_SOURCE_DIR) could hold, any one of which would do */
  files: string[];
  /** some route of it downloads (a URL pinned by content) */
  onlineRoute: boolean;
  /** settings.allowDownloads let that route be tried */
  downloadsAllowed: boolean;
}
