import { z } from "zod";

/** The machine a run ran on, as run.json records it and a published report names it. */
export const machineFactsSchema = z.object({
  kernel: z.string().min(1),
  cores: z.number().int().positive(),
  memoryGiB: z.number().nonnegative(),
  cgroup: z.enum(["v1", "v2"]),
  /** the engine that runs the disposable hosts (not an engine under test) */
  outerEngine: z.string().min(1),
});
export type MachineFacts = z.infer<typeof machineFactsSchema>;
