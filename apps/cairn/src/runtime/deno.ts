import type { RuntimeAdapter } from "./types.js";

interface DenoGlobal {
  args: string[];
  env: { toObject(): Record<string, string> };
  serve(
    options: { hostname: string; port: number; onListen?: () => void },
    handler: (request: Request) => Response | Promise<Response>,
  ): { shutdown(): Promise<void>; finished: Promise<void> };
  addSignalListener(signal: string, fn: () => void): void;
  stdout: { writeSync(data: Uint8Array): number };
  stderr: { writeSync(data: Uint8Array): number };
  readTextFile(path: string): Promise<string>;
  exit(code: number): never;
  createHttpClient(options: { proxy: { url: string } }): unknown;
}

const deno = (globalThis as unknown as { Deno: DenoGlobal }).Deno;
const encoder = new TextEncoder();

function writeAll(target: { writeSync(data: Uint8Array): number }, text: string): void {
  let data = encoder.encode(text);
  while (data.byteLength > 0) data = data.subarray(target.writeSync(data));
}

/** Deno: Deno.serve for HTTP, Deno's own signal and file APIs. */
export const denoRuntime: RuntimeAdapter = {
  name: "deno",
  argv: () => [...deno.args],
  env: () => deno.env.toObject(),
  serve(handler, { hostname, port }) {
    return new Promise((resolve) => {
      // onListen may run before Deno.serve returns: resolve with a closure
      // that reaches the server through a variable assigned just after.
      let server: { shutdown(): Promise<void> } | undefined;
      const listener = { close: async () => server?.shutdown() };
      server = deno.serve({ hostname, port, onListen: () => resolve(listener) }, handler);
    });
  },
  onShutdown(fn) {
    let called = false;
    for (const signal of ["SIGINT", "SIGTERM"]) {
      deno.addSignalListener(signal, () => {
        if (called) return;
        called = true;
        fn(signal);
      });
    }
  },
  writeStdout: (text) => writeAll(deno.stdout, text),
  writeStderr: (text) => writeAll(deno.stderr, text),
  readTextFile: (path) => deno.readTextFile(path),
  exit: (code) => deno.exit(code),
  // Deno's fetch takes an HTTP client per request; this one goes through the proxy.
  async proxiedFetch(proxyUrl) {
    const client = deno.createHttpClient({ proxy: { url: proxyUrl } });
    return ((input: string | URL | Request, init?: RequestInit) =>
      fetch(input, { ...init, client } as RequestInit)) as typeof fetch;
  },
};
