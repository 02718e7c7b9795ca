import { execa, type Options } from "execa";
import { TIMEOUT_MS, type TimeoutKind } from "../contract/timeouts.js";

/**
 * Runs a program on this machine (not inside a host): a non-zero exit is a result to read,
 * never a throw, and the call is bounded by its kind's timeout in TIMEOUT_MS.
 */
export function runLocal<const O extends Options = Record<never, never>>(
  kind: TimeoutKind,
  file: string,
  args: readonly string[],
  options?: O,
) {
  return execa(file, args, { reject: false, timeout: TIMEOUT_MS[kind], ...options } as {
    reject: false;
    timeout: number;
  } & O);
}
