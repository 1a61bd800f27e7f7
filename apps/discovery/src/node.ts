/**
 * `@cairn/discovery/node`: the service on Node's HTTP server (also what the
 * binary runs under Bun and Deno through their `node:` compatibility), with
 * its embedded store and the periodic token GC. The command-line settings
 * live here too.
 */
import type { AddressInfo } from "node:net";
import { type Logger, silentLogger } from "@cairn/server";
import { type ServerType, serve } from "@hono/node-server";
import { getConnInfo } from "@hono/node-server/conninfo";
import { createDiscoveryApp } from "./app.js";
import { type DiscoveryBackend, EmbeddedStore } from "./backend.js";
import type { DiscoveryConfig } from "./config.js";
import { sweepTokens } from "./gc.js";
import { DEFAULT_REMOTE_PREFIX, RemoteBackend, withKeyPrefix } from "./remote.js";

export {
  ConfigError,
  type DiscoveryConfig,
  HelpRequested,
  parseConfig,
  parseDuration,
  USAGE,
} from "./config.js";

/** A running service, from {@link startDiscovery}. */
export interface RunningDiscovery {
  /** The URL it listens on, e.g. `http://127.0.0.1:8087`. */
  readonly url: string;
  readonly port: number;
  /** The public base URL token URLs start with. */
  readonly publicUrl: string;
  /** Runs one GC pass now; resolves with the tokens deleted. */
  sweep(): Promise<string[]>;
  /** Stops listening (open watches are cut), the GC timer and the store. */
  close(): Promise<void>;
}

/** Extras of {@link startDiscovery}. */
export interface StartDiscoveryOptions {
  readonly logger?: Logger;
  /** Clock in ms (token times, GC, rate limiting); default `Date.now`. */
  readonly now?: () => number;
}

/**
 * Opens the embedded store in `config.dataDir`, serves the discovery app on
 * `config.hostname:config.port` and sweeps expired tokens every
 * `config.gcIntervalMs` (and once at start).
 */
export async function startDiscovery(
  config: DiscoveryConfig,
  options: StartDiscoveryOptions = {},
): Promise<RunningDiscovery> {
  const log = options.logger ?? silentLogger;
  const now = options.now ?? Date.now;
  const { store, close: closeStore } = await openStore(config, log);
  let server: ServerType;
  let port: number;
  try {
    const app = createDiscoveryApp({
      backend: store,
      publicUrl: config.publicUrl,
      rateLimit:
        config.rateLimit > 0
          ? { perSecond: config.rateLimit, burst: config.rateLimitBurst }
          : undefined,
      clientAddress: (c) => getConnInfo(c).remote.address,
      now,
      logger: log,
    });
    ({ server, port } = await listen(app.fetch, config.hostname, config.port));
  } catch (error) {
    await closeStore();
    throw error;
  }
  const hostForUrl = config.hostname.includes(":") ? `[${config.hostname}]` : config.hostname;
  const url = `http://${hostForUrl}:${port}`;
  // --addr with port 0: the default public URL follows the port picked.
  const publicUrl = config.publicUrl.replace(/:0$/, `:${port}`);

  let sweeping: Promise<string[]> | undefined;
  const sweep = (): Promise<string[]> => {
    sweeping ??= sweepTokens(store, {
      ttlMs: config.tokenTtlMs,
      nowMs: now(),
      logger: log,
    }).finally(() => {
      sweeping = undefined;
    });
    return sweeping;
  };
  const runSweep = () =>
    void sweep().catch((error: unknown) => log.warn("token GC failed", { error: String(error) }));
  const timer = setInterval(runSweep, config.gcIntervalMs);
  runSweep();
  if (/^http:\/\/(0\.0\.0\.0|\[::\]):/.test(publicUrl)) {
    // Members cannot dial a wildcard address: token URLs need --host.
    log.warn("token URLs name a wildcard address; set --host to the public URL", {
      "public-url": publicUrl,
    });
  }
  log.info("serving discovery", {
    "listen-url": url,
    "public-url": publicUrl,
    "data-dir": config.dataDir,
  });

  return {
    url,
    port,
    publicUrl,
    sweep,
    async close() {
      clearInterval(timer);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Long polls would hold close() open forever.
        if ("closeAllConnections" in server) server.closeAllConnections();
      });
      await sweeping?.catch(() => {});
      await closeStore();
    },
  };
}

/** The embedded store, or the external cluster of `--etcd` (checked to answer). */
async function openStore(
  config: DiscoveryConfig,
  log: Logger,
): Promise<{ store: DiscoveryBackend; close: () => Promise<void> }> {
  if (config.etcd === undefined) {
    const store = await EmbeddedStore.open({
      dataDir: config.dataDir,
      logger: log.child({ component: "store" }),
    });
    return { store, close: () => store.close() };
  }
  const store = withKeyPrefix(new RemoteBackend({ endpoints: config.etcd }), DEFAULT_REMOTE_PREFIX);
  // Fail at start, not on the first user request, when the cluster is unreachable.
  await store.read(
    { key: "/", recursive: false, sorted: false, time: Date.now() * 1000 },
    { linearizable: false },
  );
  return { store, close: async () => {} };
}

function listen(
  fetch: (request: Request, env?: unknown) => Response | Promise<Response>,
  hostname: string,
  port: number,
): Promise<{ server: ServerType; port: number }> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch, hostname, port }, (info: AddressInfo) => {
      server.off("error", reject);
      resolve({ server, port: info.port });
    });
    server.once("error", reject);
  });
}
