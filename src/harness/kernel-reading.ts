import { kernelCapabilityScript, parseKernelCapability, type KernelCapability } from "../contract/kernel-capability.js";
import { TIMEOUT_MS } from "../contract/timeouts.js";
import type { HostProvider } from "./host.js";

/**
 * The kernel every host of a provider shares (dind: this machine's), read from inside one
 * short-lived host of `image`: never from the machine's own firewall.
 */
export async function readSharedKernel(provider: HostProvider, image: string): Promise<KernelCapability> {
  const host = await provider.start({ image, label: "kernel-capability" });
  try {
    const read = await host.sh(kernelCapabilityScript(), TIMEOUT_MS.hostRead);
    return parseKernelCapability(read.stdout);
  } finally {
    await host.dispose();
  }
}
