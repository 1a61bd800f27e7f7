/**
 * A small forward HTTP proxy on 127.0.0.1 for `--discovery-proxy` stories:
 * it forwards absolute-form requests (`GET http://host/path`) and CONNECT
 * tunnels (how undici's ProxyAgent reaches every target), only to loopback
 * targets, and records the request line of every HTTP request it carried
 * (`GET /path?query`), so a story can see what went through it.
 */
import { createServer, request as httpRequest } from "node:http";
import { connect, type Socket } from "node:net";

/** A running forward proxy. */
export interface ForwardProxy {
  readonly port: number;
  /** `METHOD /path?query` of every request carried, in order. */
  readonly seen: string[];
  close(): Promise<void>;
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]", "::1"]);
const REQUEST_LINE = /(GET|PUT|POST|DELETE|HEAD) (\S+) HTTP\/1\.[01]\r\n/g;

/** Starts the proxy on a free port. */
export async function startForwardProxy(): Promise<ForwardProxy> {
  const seen: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    let target: URL;
    try {
      target = new URL(req.url ?? "");
    } catch {
      res.writeHead(400).end("absolute-form request expected\n");
      return;
    }
    if (!LOOPBACK.has(target.hostname)) {
      res.writeHead(403).end("loopback targets only\n");
      return;
    }
    seen.push(`${req.method} ${target.pathname}${target.search}`);
    const upstream = httpRequest(
      target,
      { method: req.method, headers: { ...req.headers, host: target.host } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.on("connect", (req, client: Socket, head: Buffer) => {
    const [host = "", port = "80"] = (req.url ?? "").split(/:(?=\d+$)/);
    if (!LOOPBACK.has(host)) {
      client.end("HTTP/1.1 403 Forbidden\r\n\r\n");
      return;
    }
    const upstream = connect(Number(port), host, () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length > 0) upstream.write(head);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    sockets.add(upstream);
    upstream.on("close", () => sockets.delete(upstream));
    // The tunnel carries plain HTTP here: read the request lines going through.
    client.on("data", (chunk: Buffer) => {
      for (const m of chunk.toString("latin1").matchAll(REQUEST_LINE)) seen.push(`${m[1]} ${m[2]}`);
    });
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return {
    port: address.port,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
