import { createServer, type Server, Socket } from "node:net";

/**
 * A TCP proxy on 127.0.0.1 in front of one server, so a test can cut every
 * open connection (as a network failure would) and refuse new ones for a while.
 */
export interface CuttableProxy {
  readonly url: string;
  /** Destroys every open connection (both sides). */
  cut(): void;
  /** Bytes the server has sent back through the proxy so far. */
  answered(): number;
  /** Stops accepting connections (new ones are refused) until {@link resume}. */
  pause(): Promise<void>;
  /** Listens again on the same port. */
  resume(): Promise<void>;
  close(): Promise<void>;
}

export async function startProxy(target: string): Promise<CuttableProxy> {
  const t = new URL(target);
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  let answered = 0;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = createServer((client) => {
        const upstream = new Socket();
        upstream.connect(Number(t.port), t.hostname);
        sockets.add(client);
        sockets.add(upstream);
        client.pipe(upstream).pipe(client);
        upstream.on("data", (chunk: Buffer) => {
          answered += chunk.length;
        });
        const drop = () => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
        client.on("error", drop).on("close", drop);
        upstream.on("error", drop).on("close", drop);
      });
      s.once("error", reject);
      s.listen({ host: "127.0.0.1", port }, () => {
        const a = s.address();
        if (a !== null && typeof a === "object") port = a.port;
        server = s;
        resolve();
      });
    });
  const stopListening = () =>
    new Promise<void>((resolve) => {
      const s = server;
      server = undefined;
      if (s === undefined) resolve();
      else s.close(() => resolve());
    });
  const cut = () => {
    for (const s of sockets) s.destroy();
    sockets.clear();
  };
  await listen();
  return {
    url: `http://127.0.0.1:${port}`,
    cut,
    answered: () => answered,
    pause: async () => {
      const closing = stopListening();
      cut();
      await closing;
    },
    resume: listen,
    close: async () => {
      const closing = stopListening();
      cut();
      await closing;
    },
  };
}
