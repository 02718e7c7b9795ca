import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { connect, type AddressInfo, type Socket } from "node:net";

/** What a route of the local server does with a request. */
export type Route =
  | { kind: "file"; body: Buffer }
  | { kind: "status"; code: number }
  /** announces the whole length, sends only the first `sent` bytes, then closes the connection */
  | { kind: "truncated"; body: Buffer; sent: number }
  /** answers nothing at all (no head) */
  | { kind: "silent" }
  /** sends the head and the first `sent` bytes, then nothing more */
  | { kind: "stall-body"; body: Buffer; sent: number }
  | { kind: "redirect"; to: string };

/** An HTTP server on 127.0.0.1 standing in for an upstream site: routes made by the test, requests counted. */
export class LocalHttpServer {
  readonly hits: string[] = [];
  private readonly routes = new Map<string, Route>();
  private readonly sockets = new Set<Socket>();

  private constructor(private readonly server: Server) {}

  static async start(): Promise<LocalHttpServer> {
    const server = createServer();
    const local = new LocalHttpServer(server);
    server.on("request", (req, res) => local.answer(req, res));
    server.on("connection", (socket) => {
      local.sockets.add(socket);
      socket.on("close", () => local.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return local;
  }

  get origin(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  route(path: string, route: Route): string {
    this.routes.set(path, route);
    return `${this.origin}${path}`;
  }

  private answer(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? "/", this.origin).pathname;
    this.hits.push(path);
    const route = this.routes.get(path) ?? { kind: "status", code: 404 };
    switch (route.kind) {
      case "file":
        res.writeHead(200, { "content-length": route.body.length }).end(route.body);
        return;
      case "status":
        res.writeHead(route.code, { "content-type": "text/plain" }).end(`status ${route.code}\n`);
        return;
      case "redirect":
        res.writeHead(302, { location: route.to }).end();
        return;
      case "truncated":
        res.writeHead(200, { "content-length": route.body.length });
        res.write(route.body.subarray(0, route.sent), () => res.socket?.destroy());
        return;
      case "stall-body":
        res.writeHead(200, { "content-length": route.body.length });
        res.write(route.body.subarray(0, route.sent));
        return;
      case "silent":
        return;
    }
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * A forward proxy on 127.0.0.1 that records what it was asked for: CONNECT tunnels (how
 * HTTPS, and undici's proxy agent, go through a proxy) and absolute-URI requests.
 */
export class LocalProxy {
  readonly seen: string[] = [];
  private readonly sockets = new Set<Socket>();

  private constructor(private readonly server: Server) {}

  static async start(): Promise<LocalProxy> {
    const server = createServer();
    const proxy = new LocalProxy(server);
    server.on("connection", (socket) => {
      proxy.sockets.add(socket);
      socket.on("close", () => proxy.sockets.delete(socket));
    });
    server.on("connect", (req: IncomingMessage, client: Socket, head: Buffer) => {
      proxy.seen.push(`CONNECT ${req.url}`);
      const [host = "", port = "80"] = (req.url ?? "").split(":");
      const upstream = connect(Number(port), host, () => {
        client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
        upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      proxy.sockets.add(upstream);
      upstream.on("error", () => client.destroy());
      client.on("error", () => upstream.destroy());
    });
    server.on("request", (req: IncomingMessage, res: ServerResponse) => {
      proxy.seen.push(`${req.method} ${req.url}`);
      const forwarded = httpRequest(req.url ?? "", { method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      forwarded.on("error", () => res.writeHead(502).end());
      req.pipe(forwarded);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
