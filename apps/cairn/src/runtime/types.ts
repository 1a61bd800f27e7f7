import type { KeysRoute } from "@cairn/kv-api";
import type { StreamDialer } from "@cairn/server";
import type { DnsResolver, ResolverAddress } from "./dns.js";

/**
 * A request handler in the Web-standard shape every runtime serves. `env` is
 * what the runtime's server passes along (on Node, `@hono/node-server`'s
 * `{ incoming, outgoing }`: the v2 app reads the raw request-target from it).
 * Wrappers must pass it on.
 */
export type FetchHandler = (request: Request, env?: unknown) => Response | Promise<Response>;

/** A listening server started through a {@link RuntimeAdapter}. */
export interface Listener {
  close(): Promise<void>;
}

/**
 * What the member binary needs from the runtime it runs on. Everything else
 * (fetch, streams, crypto, timers) is Web-standard and used directly.
 */
export interface RuntimeAdapter {
  readonly name: "node" | "bun" | "deno";
  argv(): string[];
  env(): Record<string, string | undefined>;
  /**
   * Serves `handler` on `hostname:port`. `keys`, when given, is the client
   * API's `/v2/keys` route without the framework: a runtime may answer plain
   * key requests through it directly (Node does, skipping the Request and
   * Response objects its server would build) and must hand it nothing else.
   */
  serve(
    handler: FetchHandler,
    options: { hostname: string; port: number; keys?: KeysRoute },
  ): Promise<Listener>;
  /** Calls `fn` once on SIGINT or SIGTERM. */
  onShutdown(fn: (signal: string) => void): void;
  writeStdout(text: string): void;
  writeStderr(text: string): void;
  readTextFile(path: string): Promise<string>;
  exit(code: number): never;
  /** DNS lookups (SRV bootstrap) through `server`, or the system resolver when it is undefined. */
  dnsResolver(server: ResolverAddress | undefined): DnsResolver;
  /**
   * A fetch that sends every request through the HTTP proxy at `proxyUrl`
   * (`--discovery-proxy`): Web fetch has no proxy option, each runtime has
   * its own.
   */
  proxiedFetch(proxyUrl: string): Promise<typeof fetch>;
  /**
   * Reads the streams of raft messages peers write to this member, when the
   * runtime has a leaner way than `fetch` (the default).
   */
  readonly dialStream?: StreamDialer;
}
