import { z } from "zod";
import type { LoadedMatrix } from "../../src/config/schema.js";
import type { About } from "../../src/report/publication.js";
import { endOfRun, kernelsSeen, versionsSeen } from "../../src/report/publication.js";
import { machineFactsSchema, type MachineFacts } from "../../src/results/machine.js";
import type { CellResult } from "../../src/results/schema.js";

/** What publishing needs of run.json: a finished run that recorded its machine. */
export const publishableRunSchema = z.object({
  runId: z.string(),
  matrixFile: z.string(),
  state: z.literal("finished", { error: "the run has not finished (run.json state is not 'finished')" }),
  /** runs record their machine since run.json had this field; publishing needs it */
  machine: machineFactsSchema.optional(),
});
export type PublishableRun = z.infer<typeof publishableRunSchema>;

const LEFT_OUT = new Set(["kind", "urls", "mirrorPath"]);

/** Where an engine or build came from, in words; download addresses are left to the matrix reference. */
export function describeSource(source: Record<string, unknown>): string {
  const details = Object.entries(source)
    .filter(([key]) => !LEFT_OUT.has(key))
    .map(([key, value]) => `${key} ${String(value)}`);
  return [String(source.kind), ...details].join(", ");
}

export function aboutRun(
  run: PublishableRun & { machine: MachineFacts },
  matrix: LoadedMatrix,
  cells: readonly CellResult[],
): About {
  const seen = versionsSeen(cells);
  const kernels = kernelsSeen(cells);
  return {
    runId: run.runId,
    matrixFile: run.matrixFile,
    ranAt: endOfRun(cells),
    machine: run.machine,
    ...(kernels.length ? { kernels } : {}),
    engines: [...seen.engines].map(([name, versions]) => ({
      name,
      source: describeSource(matrix.engines.find((e) => e.name === name)?.source ?? { kind: "unknown" }),
      seen: versions,
    })),
    iptables: [...seen.iptables].map(([name, versions]) => ({
      name,
      source: describeSource(matrix.iptables.find((b) => b.name === name)?.source ?? { kind: "unknown" }),
      seen: versions,
    })),
  };
}
