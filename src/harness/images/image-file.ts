import { hostname } from "node:os";
import type Docker from "dockerode";
import tar from "tar-stream";
import { HOSTNAME_LABEL, PID_LABEL, RUN_LABEL } from "../engine.js";

/** Reads one text file out of an image without running it (a created, never started container). */
export async function readImageFile(docker: Docker, image: string, path: string): Promise<string> {
  return (await readImageBytes(docker, image, path)).toString("utf8");
}

/** Reads one file out of an image without running it (a created, never started container). */
export async function readImageBytes(docker: Docker, image: string, path: string): Promise<Buffer> {
  // labelled like a run's containers, so a sweep removes it if this process dies in between
  const container = await docker.createContainer({
    Image: image,
    Cmd: ["true"],
    Labels: { [RUN_LABEL]: "read-file", [PID_LABEL]: String(process.pid), [HOSTNAME_LABEL]: hostname() },
  });
  try {
    const archive = await container.getArchive({ path });
    return await new Promise<Buffer>((resolve, reject) => {
      const extract = tar.extract();
      const chunks: Buffer[] = [];
      extract.on("entry", (_header, stream, next) => {
        stream.on("data", (chunk) => chunks.push(chunk as Buffer));
        stream.on("end", next);
      });
      extract.on("finish", () => resolve(Buffer.concat(chunks)));
      extract.on("error", reject);
      archive.pipe(extract);
    });
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
  }
}
