import { matrixFileSchema } from "../../config/schema.js";
import { parseYamlWithSchema, readUserFile } from "../../config/yaml-schema.js";
import { UserError } from "../../errors.js";
import { machineDebianMirror } from "../apt-mirror.js";
import { assertEngineReachable, connectEngine } from "../engine.js";
import { packageFile } from "../package-files.js";
import { planBaseImages } from "./base-image.js";
import { prepareImages, suitesNeeded } from "./prepare.js";

/**
 * The host image of one engine (with every iptables build of the matrix, as in a run, so
 * the cached image is shared) and the peer image, built on first use and cached after.
 */
export async function hostImageFor(
  choice: { engine: string; iptables: string; matrix?: string },
  log: (line: string) => void,
): Promise<{ hostImage: string; peerImage: string }> {
  const file = choice.matrix ?? packageFile("matrix.yaml");
  const { data: matrix } = parseYamlWithSchema(await readUserFile(file, "matrix file", "matrix"), file, matrixFileSchema);
  const engine = matrix.engines.find((e) => e.name === choice.engine);
  if (!engine) throw new UserError(`unknown engine '${choice.engine}'; ${file} declares: ${matrix.engines.map((e) => e.name).join(", ")}`);
  if (!matrix.iptables.some((b) => b.name === choice.iptables)) {
    throw new UserError(`unknown iptables build '${choice.iptables}'; ${file} declares: ${matrix.iptables.map((b) => b.name).join(", ")}`);
  }
  const docker = connectEngine();
  await assertEngineReachable(docker);
  const { plans, mirror } = await planBaseImages(docker, suitesNeeded([engine]), await machineDebianMirror(), matrix.settings.baseImage);
  const images = await prepareImages(docker, { engines: [engine], builds: matrix.iptables, basePlans: plans, settings: matrix.settings, mirror, log });
  const build = images.builds.get(choice.iptables);
  if (!build?.ok) throw new UserError(`iptables ${choice.iptables}: ${build?.reason ?? "not built"}`);
  const host = images.hosts.get(engine.name);
  if (!host?.ok) throw new UserError(`engine ${engine.name}: ${host?.reason ?? "no host image"}`);
  return { hostImage: host.tag, peerImage: images.peerTag };
}
