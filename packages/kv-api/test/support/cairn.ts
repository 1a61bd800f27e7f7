import type { Server } from "node:http";
import type { Socket } from "node:net";
import { serve } from "@hono/node-server";
import { createKvApi } from "../../src/app.js";
import { LocalBackend } from "../../src/local-backend.js";

/** A running Cairn v2 API served by a {@link LocalBackend}. */
export interface CairnV2 {
  /** Base URL, e.g. `http://127.0.0.1:40123` (no trailing slash). */
  url: string;
  stop(): Promise<void>;
}

type Fetch = (request: Request, env?: unknown) => Response | Promise<Response>;

/**
 * Node's HTTP parser rejects methods it does not know (`FOO`) before any
 * handler runs, where Go hands them to the handler (which answers 405). This
 * catches that parser error, builds the request itself and answers through
 * the app, so such requests get etcd's bytes too.
 */
export function answerUnknownMethods(server: Server, fetch: Fetch): void {
  server.on(
    "clientError",
    (err: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Socket) => {
      const raw = err.rawPacket?.toString("latin1") ?? "";
      const line = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) (\/\S*) HTTP\/1\.[01]\r?\n/.exec(raw);
      if (err.code !== "HPE_INVALID_METHOD" || line === null || !socket.writable) {
        if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
        else socket.destroy();
        return;
      }
      const target = line[2]!;
      const request = new Request(`http://127.0.0.1${target}`, { method: line[1]! });
      void Promise.resolve(fetch(request, { incoming: { url: target } }))
        .then(async (res) => {
          const body = Buffer.from(await res.arrayBuffer());
          let head = `HTTP/1.1 ${res.status} ${res.statusText || "Method Not Allowed"}\r\n`;
          res.headers.forEach((v, k) => {
            head += `${k}: ${v}\r\n`;
          });
          head += `Date: ${new Date().toUTCString()}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
          socket.end(Buffer.concat([Buffer.from(head, "latin1"), body]));
        })
        .catch(() => socket.destroy());
    },
  );
}

/**
 * Serves `createKvApi(new LocalBackend(...))` on 127.0.0.1 and a free port
 * (the kernel picks it: no race with other tests). The member advertises the
 * URL it is served on as its client URL, as etcd does.
 */
export async function startCairnV2(
  options: { historySize?: number; cors?: string[] } = {},
): Promise<CairnV2> {
  let fetch: Fetch = () => new Response(null, { status: 503 });
  const { server, port } = await new Promise<{ server: Server; port: number }>((resolve) => {
    const s = serve(
      { fetch: (req, env) => fetch(req, env), hostname: "127.0.0.1", port: 0 },
      (info) => resolve({ server: s as unknown as Server, port: info.port }),
    );
  });
  const url = `http://127.0.0.1:${port}`;
  const backend = new LocalBackend({
    clientURLs: [url],
    peerURLs: ["http://127.0.0.1:2380"],
    ...(options.historySize === undefined ? {} : { historySize: options.historySize }),
  });
  const app = createKvApi(backend, options.cors === undefined ? {} : { cors: options.cors });
  fetch = (req, env) => app.fetch(req, env);
  answerUnknownMethods(server, (req, env) => app.fetch(req, env));
  return {
    url,
    async stop() {
      backend.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
