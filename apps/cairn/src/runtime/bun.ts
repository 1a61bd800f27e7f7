import { serveGoLike } from "./go-like.js";
import { nodeDnsResolver } from "./node-dns.js";
import type { RuntimeAdapter } from "./types.js";

interface BunGlobal {
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

/** Bun: `@cairn/kv-api/node` (Go-like serving over node:http) for HTTP, Bun.file for files. */
export const bunRuntime: RuntimeAdapter = {
  name: "bun",
  argv: () => proc.argv.slice(2),
  env: () => bun.env,
  // Served as on Node, over Bun's own node:http and node:net. Bun.serve
  // sends a streamed response's head only with its first body bytes, so a
  // watch's head waited for its event (and came framed with
  // Content-Length), where etcd sends it, chunked, as the watch is
  // registered; and it closes a connection after 10 s without a byte unless
  // told not to. This path also measured faster under Bun (one member: PUT
  // at one connection 3,436–3,596 against 3,191–3,279/s, GET at 64
  // 83,394–85,661 against 75,618–80,842/s).
  serve: serveGoLike,
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
