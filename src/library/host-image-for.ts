import type Docker from "dockerode";
import { UserError } from "../errors.js";
import { assertEngineReachable } from "../harness/engine.js";
import { hostImageWith } from "../run/session/images.js";
import { loadMatrix, packagedMatrixFile } from "../run/session/matrix-file.js";

/**
 * The host image of one engine (with every iptables build of the matrix, as in a run, so
 * the cached image is shared) and the peer image, built on first use and cached after: the
 * matrix read and the images had the way a run has them.
 */
export async function hostImageFor(
  docker: Docker,
  choice: { engine: string; iptables: string; matrix?: string },
  log: (line: string) => void,
): Promise<{ hostImage: string; peerImage: string }> {
  const file = choice.matrix ?? packagedMatrixFile();
  const matrix = await loadMatrix(file, "matrix");
  const engine = matrix.engines.find((e) => e.name === choice.engine);
  if (!engine)
    throw new UserError(
      `unknown engine '${choice.engine}'; ${file} declares: ${matrix.engines.map((e) => e.name).join(", ")}`,
    );
  if (!matrix.iptables.some((b) => b.name === choice.iptables)) {
    throw new UserError(
      `unknown iptables build '${choice.iptables}'; ${file} declares: ${matrix.iptables.map((b) => b.name).join(", ")}`,
    );
  }
  await assertEngineReachable(docker);
  return hostImageWith(docker, engine, choice.iptables, matrix.iptables, matrix.settings, log);
}
