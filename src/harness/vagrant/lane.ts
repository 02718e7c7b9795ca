import type Docker from "dockerode";
import type { IptablesBuild } from "../../config/schema.js";
import { HOST_TOOLS } from "../../contract/host-contract.js";
import { readImageBytes } from "../images/image-file.js";
import { readHostFiles, type PreparedImages } from "../images/prepare.js";
import { SHIM_BINARY } from "../images/shim-image.js";
import { VagrantProvider } from "../providers/vagrant.js";
import { boxKernel, ensureBox } from "./box.js";
import { kvmUsable, startLibvirt, type LibvirtSession } from "./libvirt.js";

export type VmLane =
  { ok: true; provider: VagrantProvider; box: string } | { ok: false; status: "unsupported" | "error"; reason: string };

/** Starts libvirt, builds (or finds) the box, and hands out the VM provider; failures become the VM cells' reason. */
export async function startVmLane(
  options: { docker: Docker; runId: string; mirror: string; log: (line: string) => void },
  images: PreparedImages,
  builds: readonly IptablesBuild[],
): Promise<VmLane> {
  let libvirt: LibvirtSession | undefined;
  try {
    libvirt = await startLibvirt(options.log);
    const withTags = builds.flatMap((build) => {
      const state = images.builds.get(build.name);
      return state?.ok ? [{ build, tag: state.tag }] : [];
    });
    if (!images.shim.ok) throw new Error(images.shim.reason);
    const shim = await readImageBytes(options.docker, images.shim.tag, SHIM_BINARY);
    const hostFiles = { ...(await readHostFiles()), [`bin/${HOST_TOOLS.iptablesShim}`]: shim };
    const box = await ensureBox({ mirror: options.mirror, builds: withTags, hostFiles }, options.log);
    images.timingsMs[`box:${box.name}`] = box.ms;
    options.log(`VM box ${box.name}: ${box.built ? "built" : "cached"} in ${(box.ms / 1000).toFixed(0)}s`);
    libvirt.driver = (await kvmUsable(boxKernel(box.name))) ? "kvm" : "qemu";
    options.log(
      `VM lane: libvirt ${libvirt.driver === "kvm" ? "with KVM" : "with software emulation (no usable KVM)"}`,
    );
    return { ok: true, provider: new VagrantProvider(options.runId, libvirt), box: box.name };
  } catch (error) {
    await libvirt?.stop();
    const message = (error as Error).message;
    return {
      ok: false,
      status: (error as Error).name === "UserError" ? "unsupported" : "error",
      reason: `VM lane: ${message}`,
    };
  }
}
