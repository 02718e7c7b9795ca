import { createHash, randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, rename, rm, rmdir } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { EnvHttpProxyAgent, interceptors, request, type Dispatcher } from "undici";
import { TIMEOUT_MS } from "../../contract/timeouts.js";

/** No source fwcompat downloads is near this size; a larger body is a wrong URL or a hostile server. */
export const MAX_DOWNLOAD_BYTES = 1024 * 1024 * 1024;
const MAX_REDIRECTS = 5;

export interface DownloadLimits {
  /** the whole download, connection to last byte */
  totalMs: number;
  /** the longest wait for the response head or the next piece of the body */
  idleMs: number;
  maxBytes: number;
}

export const DEFAULT_LIMITS: DownloadLimits = {
  totalMs: TIMEOUT_MS.download,
  idleMs: TIMEOUT_MS.downloadIdle,
  maxBytes: MAX_DOWNLOAD_BYTES,
};

export interface PinnedDownload {
  url: string;
  /** where the file lands once it has passed every check; nothing else is ever written there */
  dest: string;
  /** the sha256 the bytes must have, when the pin is on the file itself */
  sha256?: string;
  /** a check of the downloaded file before it is kept (e.g. the tree it unpacks to): a problem, or undefined */
  verify?: (path: string) => Promise<string | undefined>;
}

export type DownloadResult = { ok: true; path: string; sha256: string; bytes: number } | { ok: false; reason: string };

/** The proxy settings of an environment, as curl and git read them (the lower-case name first). */
function proxyAgent(env: NodeJS.ProcessEnv, limits: DownloadLimits): Dispatcher {
  const agent = new EnvHttpProxyAgent({
    httpProxy: env.http_proxy ?? env.HTTP_PROXY ?? "",
    httpsProxy: env.https_proxy ?? env.HTTPS_PROXY ?? env.http_proxy ?? env.HTTP_PROXY ?? "",
    noProxy: env.no_proxy ?? env.NO_PROXY ?? "",
    headersTimeout: limits.idleMs,
    bodyTimeout: limits.idleMs,
    connectTimeout: limits.idleMs,
  });
  return agent.compose(interceptors.redirect({ maxRedirections: MAX_REDIRECTS }));
}

/** Counts and hashes what passes through, and stops the body once it is larger than allowed. */
class Measured extends Transform {
  readonly hash = createHash("sha256");
  bytes = 0;

  constructor(private readonly maxBytes: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) {
      done(new DownloadProblem(`larger than the ${formatBytes(this.maxBytes)} limit`));
      return;
    }
    this.hash.update(chunk);
    done(null, chunk);
  }
}

class DownloadProblem extends Error {}

/**
 * Downloads a file pinned by its content into a cache: the body goes to a temporary file
 * beside `dest`, and is renamed to `dest` only when its sha256 (and `verify`) match, so an
 * interrupted, truncated or wrong download leaves nothing behind and the next call starts
 * clean. Bounded in time (total and idle) and size; HTTP(S)_PROXY and NO_PROXY are honoured.
 * A failure is one line naming the URL and what went wrong.
 */
export async function downloadPinned(
  pin: PinnedDownload,
  limits: DownloadLimits = DEFAULT_LIMITS,
  env: NodeJS.ProcessEnv = process.env,
): Promise<DownloadResult> {
  const partial = join(
    dirname(pin.dest),
    `.${basename(pin.dest)}.partial-${process.pid}-${randomBytes(4).toString("hex")}`,
  );
  const dispatcher = proxyAgent(env, limits);
  const deadline = AbortSignal.timeout(limits.totalMs);
  try {
    await mkdir(dirname(pin.dest), { recursive: true });
    const response = await request(pin.url, { dispatcher, signal: deadline });
    if (response.statusCode !== 200) {
      await response.body.dump().catch(() => undefined);
      return fail(pin.url, `HTTP ${response.statusCode}`);
    }
    const announced = Number(response.headers["content-length"] ?? NaN);
    if (announced > limits.maxBytes)
      return fail(pin.url, `${formatBytes(announced)} is larger than the ${formatBytes(limits.maxBytes)} limit`);
    const measured = new Measured(limits.maxBytes);
    await pipeline(response.body, measured, createWriteStream(partial), { signal: deadline });
    if (Number.isFinite(announced) && measured.bytes !== announced)
      return fail(pin.url, `truncated: ${measured.bytes} of ${announced} bytes`);
    const got = measured.hash.digest("hex");
    if (pin.sha256 && got !== pin.sha256)
      return fail(pin.url, `sha256 ${got.slice(0, 12)}… is not the pinned ${pin.sha256.slice(0, 12)}…`);
    const problem = await pin.verify?.(partial);
    if (problem) return fail(pin.url, problem);
    await rename(partial, pin.dest);
    return { ok: true, path: pin.dest, sha256: got, bytes: measured.bytes };
  } catch (error) {
    return fail(pin.url, describeError(error, deadline, limits));
  } finally {
    await rm(partial, { force: true });
    // a content directory made for this download and left empty goes too (rmdir refuses a full one)
    await rmdir(dirname(pin.dest)).catch(() => undefined);
    await dispatcher.destroy().catch(() => undefined);
  }
}

const fail = (url: string, why: string): DownloadResult => ({ ok: false, reason: `${url}: ${oneLine(why)}` });

function describeError(error: unknown, deadline: AbortSignal, limits: DownloadLimits): string {
  if (deadline.aborted) return `no complete answer within ${limits.totalMs / 1000}s`;
  if (error instanceof DownloadProblem) return error.message;
  const err = error as Error & { code?: string; cause?: { code?: string; message?: string } };
  if (
    err.code === "UND_ERR_HEADERS_TIMEOUT" ||
    err.code === "UND_ERR_BODY_TIMEOUT" ||
    err.code === "UND_ERR_CONNECT_TIMEOUT"
  )
    return `stalled: nothing received for ${limits.idleMs / 1000}s`;
  if (err.code === "UND_ERR_SOCKET" || err.code === "ECONNRESET") return `connection closed early (truncated)`;
  if (err.code === "UND_ERR_RES_CONTENT_LENGTH_MISMATCH") return `truncated: the body is shorter than announced`;
  const code = err.code ?? err.cause?.code;
  const message = err.cause?.message ?? err.message;
  return code && !message.includes(code) ? `${code} ${message}` : message;
}

const oneLine = (text: string) => text.replace(/\s*\n\s*/g, " ").trim();

function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${Math.round(bytes / (1024 * 1024))} MiB` : `${bytes} bytes`;
}
