import { keysFetch } from "@cairn/kv-api";
import {
  DnsLookupError,
  type DnsResolver,
  formatResolver,
  NOT_FOUND_CODES,
  type ResolverAddress,
} from "./dns.js";
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
  resolveDns(
    query: string,
    type: "SRV" | "A" | "AAAA",
    options?: { nameServer?: { ipAddr: string; port: number } },
  ): Promise<unknown[]>;
  errors: { NotFound: new (...args: never[]) => Error };
  createHttpClient(options: { proxy: { url: string } }): unknown;
}

const deno = (globalThis as unknown as { Deno: DenoGlobal }).Deno;
const encoder = new TextEncoder();

function writeAll(target: { writeSync(data: Uint8Array): number }, text: string): void {
  let data = encoder.encode(text);
  while (data.byteLength > 0) data = data.subarray(target.writeSync(data));
}

/** DNS through `Deno.resolveDns`, asking `server` or the system's resolver. */
function denoDnsResolver(server: ResolverAddress | undefined): DnsResolver {
  const options =
    server === undefined ? {} : { nameServer: { ipAddr: server.host, port: server.port } };
  const ask = async <T>(name: string, type: "SRV" | "A" | "AAAA"): Promise<T[]> => {
    try {
      return (await deno.resolveDns(name, type, options)) as T[];
    } catch (error) {
      // Deno reports NXDOMAIN and "no records of this type" alike, as NotFound.
      const notFound = error instanceof deno.errors.NotFound;
      throw new DnsLookupError(
        {
          name,
          server: server === undefined ? undefined : formatResolver(server),
          notFound,
          detail: error instanceof Error ? error.message : String(error),
        },
        { cause: error },
      );
    }
  };
  return {
    async resolveSrv(name) {
      const records = await ask<{ target: string; port: number; priority: number; weight: number }>(
        name,
        "SRV",
      );
      return records.map((r) => ({ ...r, target: r.target.replace(/\.$/, "") }));
    },
    async resolveAddresses(host) {
      if (server === undefined) {
        // Deno.resolveDns skips the hosts file; getaddrinfo (through Deno's
        // node:dns) reads it, as Go's resolver and the Node adapter do.
        const { lookup } = await import("node:dns/promises");
        try {
          return (await lookup(host, { all: true })).map((a) => a.address);
        } catch (error) {
          const code = String((error as { code?: unknown }).code ?? "");
          throw new DnsLookupError(
            {
              name: host,
              server: undefined,
              notFound: NOT_FOUND_CODES.has(code),
              detail: code || String(error),
            },
            { cause: error },
          );
        }
      }
      const [v4, v6] = await Promise.allSettled([
        ask<string>(host, "A"),
        ask<string>(host, "AAAA"),
      ]);
      const found = [
        ...(v4.status === "fulfilled" ? v4.value : []),
        ...(v6.status === "fulfilled" ? v6.value : []),
      ];
      if (found.length > 0 || v4.status === "fulfilled") return found;
      throw v4.reason;
    },
  };
}

/** Deno: Deno.serve for HTTP, Deno's own signal and file APIs. */
export const denoRuntime: RuntimeAdapter = {
  name: "deno",
  argv: () => [...deno.args],
  env: () => deno.env.toObject(),
  // Plain key requests go through the keys route, skipping the app's router.
  serve(handler, { hostname, port, keys }) {
    const fetch = keys === undefined ? handler : keysFetch(keys, handler);
    return new Promise((resolve) => {
      // onListen may run before Deno.serve returns: resolve with a closure
      // that reaches the server through a variable assigned just after.
      let server: { shutdown(): Promise<void> } | undefined;
      const listener = { close: async () => server?.shutdown() };
      server = deno.serve({ hostname, port, onListen: () => resolve(listener) }, fetch);
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
  dnsResolver: denoDnsResolver,
  // Deno's fetch takes an HTTP client per request; this one goes through the proxy.
  async proxiedFetch(proxyUrl) {
    const client = deno.createHttpClient({ proxy: { url: proxyUrl } });
    return ((input: string | URL | Request, init?: RequestInit) =>
      fetch(input, { ...init, client } as RequestInit)) as typeof fetch;
  },
};
