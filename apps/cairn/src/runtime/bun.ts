import { keysFetch } from "@cairn/kv-api";
import { nodeDnsResolver } from "./node-dns.js";
import type { RuntimeAdapter } from "./types.js";

interface BunServer {
  stop(closeActiveConnections?: boolean): Promise<void> | void;
}
interface BunGlobal {
  serve(options: {
    fetch: (request: Request) => Response | Promise<Response>;
    hostname: string;
    port: number;
    /** Seconds a connection may go without a byte before Bun closes it; 0: never. */
    idleTimeout?: number;
  }): BunServer;
  file(path: string): { text(): Promise<string> };
  argv: string[];
  env: Record<string, string | undefined>;
  write(target: unknown, text: string): Promise<number>;
  stdout: unknown;
  stderr: unknown;
}

const bun = (globalThis as unknown as { Bun: BunGlobal }).Bun;
const proc = (
  globalThis as unknown as {
    process: {
      argv: string[];
      on(signal: string, fn: () => void): void;
      exit(code: number): never;
      stdout: { write(text: string): void };
      stderr: { write(text: string): void };
    };
  }
).process;

/** Bun: Bun.serve for HTTP (its own fast server), Bun.file for files. */
export const bunRuntime: RuntimeAdapter = {
  name: "bun",
  argv: () => proc.argv.slice(2),
  env: () => bun.env,
  // Plain key requests go through the keys route, skipping the app's router.
  async serve(handler, { hostname, port, keys }) {
    const fetch = keys === undefined ? handler : keysFetch(keys, handler);
    // No idle timeout, as etcd's Go server has none: Bun.serve otherwise
    // closes a connection after 10 s without a byte, which cuts a watch's
    // long poll (and a quiet keep-alive connection) mid-response.
    const server = bun.serve({ fetch, hostname, port, idleTimeout: 0 });
    return {
      close: async () => {
        await server.stop(true);
      },
    };
  },
  onShutdown(fn) {
    let called = false;
    for (const signal of ["SIGINT", "SIGTERM"]) {
      proc.on(signal, () => {
        if (called) return;
        called = true;
        fn(signal);
      });
    }
  },
  writeStdout: (text) => proc.stdout.write(text),
  writeStderr: (text) => proc.stderr.write(text),
  readTextFile: (path) => bun.file(path).text(),
  exit: (code) => proc.exit(code),
  dnsResolver: nodeDnsResolver,
  // Bun's fetch takes the proxy per request.
  proxiedFetch: async (proxyUrl) =>
    ((input: string | URL | Request, init?: RequestInit) =>
      fetch(input, { ...init, proxy: proxyUrl } as RequestInit)) as typeof fetch,
};
