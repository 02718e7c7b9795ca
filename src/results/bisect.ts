import { z } from "zod";

export const BISECT_SCHEMA_VERSION = 1;

const commitRef = z.object({ ref: z.string(), commit: z.string() });

const commitInfo = z.object({
  commit: z.string(),
  describe: z.string(),
  subject: z.string(),
  /** author date, ISO 8601 */
  date: z.string(),
  author: z.string(),
});

export const bisectStepSchema = z.object({
  /** the two endpoints are judged first, then the steps of the search */
  role: z.enum(["good", "bad", "step"]),
  /** step number (1-based) for role "step" */
  k: z.number().optional(),
  /** the estimate of the steps the whole search takes, as known at this step */
  of: z.number().optional(),
  ...commitInfo.shape,
  build: z.object({
    status: z.enum(["built", "cached", "failed"]),
    ms: z.number(),
    tag: z.string().optional(),
    /** what the build's binaries print for --version */
    versions: z.array(z.string()).default([]),
    reason: z.string().optional(),
  }),
  /** good or bad as the judge saw it; skip when the commit could not be judged (it did not build) */
  verdict: z.enum(["good", "bad", "skip"]),
  /** the judge's own words: the probe's answer, or the cell's status and broken vantages */
  observed: z.string(),
  judgeMs: z.number(),
  /** for --by traffic: the id of the cell result in cells/ */
  cell: z.string().optional(),
  /** commits still between the last good and the first bad one after this step */
  left: z.number().optional(),
});

export const bisectFileSchema = z.object({
  schemaVersion: z.literal(BISECT_SCHEMA_VERSION),
  kind: z.literal("bisect"),
  runId: z.string(),
  startedAt: z.string(),
  /** running; found (one commit flips the verdict); ambiguous (only skipped commits were left); failed (the harness failed) */
  state: z.enum(["running", "found", "ambiguous", "failed"]),
  by: z.enum(["probe", "traffic"]),
  repository: z.string(),
  /** the cell the commits are judged by; for --by probe only the backend counts */
  judge: z.object({
    backend: z.enum(["nft", "legacy"]),
    scenario: z.string().optional(),
    engine: z.string().optional(),
    daemon: z.string().optional(),
    topology: z.string().optional(),
  }),
  good: commitRef,
  bad: commitRef,
  /** regression: good is older, the search names the first bad commit; fix: bad is older, it names the fixing commit */
  direction: z.enum(["regression", "fix"]),
  /** commits after the older endpoint up to the newer one, on the newer one's first-parent line */
  commits: z.number(),
  steps: z.array(bisectStepSchema),
  result: z
    .object({
      kind: z.enum(["first-bad", "fixing"]),
      ...commitInfo.shape,
      /** the commit before it, judged the other way */
      parent: z.object({ commit: z.string(), describe: z.string(), observed: z.string() }),
    })
    .optional(),
  /** when only skipped commits were left: the first flip is one of these */
  candidates: z.array(commitInfo).optional(),
  reason: z.string().optional(),
  builds: z.object({ built: z.number(), cached: z.number(), failed: z.number() }),
  wallMs: z.number(),
});

export type BisectStep = z.infer<typeof bisectStepSchema>;
export type BisectFile = z.infer<typeof bisectFileSchema>;
export type BisectCommitInfo = z.infer<typeof commitInfo>;

/** The range oldest first, each end with its role: "v1.8.10 (good) .. v1.8.11 (bad)". */
export const rangeLabel = (file: Pick<BisectFile, "good" | "bad" | "direction">) =>
  file.direction === "regression"
    ? `${file.good.ref} (good) .. ${file.bad.ref} (bad)`
    : `${file.bad.ref} (bad) .. ${file.good.ref} (good)`;
