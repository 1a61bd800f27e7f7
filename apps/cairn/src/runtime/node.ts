import { readFile } from "node:fs/promises";
import { serveGoLike } from "./go-like.js";
import { nodeDnsResolver } from "./node-dns.js";
import { nodeStreamDialer } from "./node-stream.js";
import type { RuntimeAdapter } from "./types.js";

/** Node.js: `@cairn/kv-api/node` (Go-like serving over node:http) for HTTP, process for the rest. */
export const nodeRuntime: RuntimeAdapter = {
  name: "node",
  argv: () => process.argv.slice(2),
  env: () => process.env,
  // A client must not tell Cairn from etcd at the HTTP level.
  serve: serveGoLike,
  onShutdown(fn) {
    let called = false;
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      process.on(signal, () => {
        if (called) return;
        called = true;
        fn(signal);
      });
    }
  },
  writeStdout: (text) => void process.stdout.write(text),
  writeStderr: (text) => void process.stderr.write(text),
  readTextFile: (path) => readFile(path, "utf8"),
  exit: (code) => process.exit(code),
  dnsResolver: nodeDnsResolver,
  dialStream: nodeStreamDialer,
  // undici's own fetch with its ProxyAgent (the fetch built into Node is undici
  // too, but its ProxyAgent is not exposed).
  async proxiedFetch(proxyUrl) {
    const { fetch: undiciFetch, ProxyAgent } = await import("undici");
    const dispatcher = new ProxyAgent(proxyUrl);
    return ((input: string | URL | Request, init?: RequestInit) =>
      undiciFetch(
        input as Parameters<typeof undiciFetch>[0],
        { ...init, dispatcher } as Parameters<typeof undiciFetch>[1],
      )) as unknown as typeof fetch;
  },
};
