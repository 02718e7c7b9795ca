import { createHash } from "node:crypto";
import type Docker from "dockerode";
import tar from "tar-stream";

export const IMAGE_LABEL = "io.fwcompat.image";

export interface ImageRecipe {
  /** repository part of the tag, e.g. fwcompat/host */
  repo: string;
  /** readable prefix of the tag, e.g. docker-28.5.2 */
  tagPrefix: string;
  dockerfile: string;
  /** extra files of the build context */
  files?: Record<string, string | Buffer>;
  /** inputs that change the result without being in the context (e.g. a base image id) */
  extraKeys?: string[];
  buildArgs?: Record<string, string>;
  /** the build's CPU weight against other containers (Docker's default 1024); not part of the image, so not of its tag */
  cpuShares?: number;
  /** modes of `files` (default: 0755 under bin/, else 0644), e.g. a user's build context as it is on disk */
  fileModes?: Record<string, number>;
}

export class ImageBuildError extends Error {
  constructor(
    message: string,
    readonly logTail: string,
  ) {
    super(message);
  }
}

/**
 * The tag is a content hash of everything that goes into the image: an unchanged recipe rebuilds nothing.
 * A build's name may hold what a tag may not (the + of 1.8.11+fix): such characters become _.
 */
export function recipeTag(recipe: ImageRecipe): string {
  const hash = createHash("sha256");
  hash.update(recipe.dockerfile);
  for (const [name, content] of Object.entries(recipe.files ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    hash.update(`\0file:${name}\0`).update(content);
  }
  for (const key of recipe.extraKeys ?? []) hash.update(`\0key:${key}`);
  for (const [k, v] of Object.entries(recipe.buildArgs ?? {}).sort()) hash.update(`\0arg:${k}=${v}`);
  for (const [k, v] of Object.entries(recipe.fileModes ?? {}).sort()) hash.update(`\0mode:${k}=${v}`);
  return `${recipe.repo}:${recipe.tagPrefix.replace(/[^A-Za-z0-9_.-]/g, "_")}-${hash.digest("hex").slice(0, 16)}`;
}

export async function imageExists(docker: Docker, tag: string): Promise<boolean> {
  try {
    await docker.getImage(tag).inspect();
    return true;
  } catch {
    return false;
  }
}

/** Builds the recipe unless an image with its content hash already exists; returns the tag and whether it was built. */
export async function ensureImage(
  docker: Docker,
  recipe: ImageRecipe,
  onLine: (line: string) => void = () => {},
  /** a build still running then is abandoned (closing the connection cancels it) and fails */
  timeoutMs?: number,
): Promise<{ tag: string; built: boolean }> {
  const tag = recipeTag(recipe);
  if (await imageExists(docker, tag)) return { tag, built: false };
  const context = tar.pack();
  context.entry({ name: "Dockerfile" }, recipe.dockerfile);
  for (const [name, content] of Object.entries(recipe.files ?? {})) {
    context.entry({ name, mode: recipe.fileModes?.[name] ?? (name.startsWith("bin/") ? 0o755 : 0o644) }, content);
  }
  context.finalize();
  const stream = await docker.buildImage(context as unknown as NodeJS.ReadableStream, {
    t: tag,
    rm: true,
    forcerm: true,
    labels: { [IMAGE_LABEL]: recipe.repo },
    buildargs: recipe.buildArgs ?? {},
    ...(recipe.cpuShares === undefined ? {} : { cpushares: recipe.cpuShares }),
  });
  const tail: string[] = [];
  let timer: NodeJS.Timeout | undefined;
  await new Promise<void>((resolve, reject) => {
    if (timeoutMs !== undefined) {
      timer = setTimeout(() => {
        (stream as unknown as { destroy(): void }).destroy();
        reject(
          new ImageBuildError(
            `building ${tag} did not finish within ${Math.round(timeoutMs / 60_000)} min`,
            tail.join("\n"),
          ),
        );
      }, timeoutMs);
    }
    docker.modem.followProgress(
      stream,
      (error: Error | null, output: Array<{ error?: string }>) => {
        const failed = error?.message ?? output.find((o) => o.error)?.error;
        if (failed)
          reject(new ImageBuildError(`building ${tag} failed: ${failed.trim().split("\n").pop()}`, tail.join("\n")));
        else resolve();
      },
      (event: { stream?: string }) => {
        for (const line of (event.stream ?? "").split("\n")) {
          if (!line.trim()) continue;
          tail.push(line);
          if (tail.length > 40) tail.shift();
          onLine(line);
        }
      },
    );
  }).finally(() => clearTimeout(timer));
  return { tag, built: true };
}
