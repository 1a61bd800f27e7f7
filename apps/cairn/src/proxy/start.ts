/**
 * Running as etcd 3.4's v2 proxy (`--proxy on|readonly`, the
 * `--discovery-fallback=proxy` of a full discovery cluster, or a data dir
 * that holds a proxy): no member, no data; the client URLs serve the v2 API
 * by forwarding to the cluster (spec bootstrap.md §3.4, etcd's `startProxy`).
 */

import { mkdir } from "node:fs/promises";
import { type Config, parseInitialClusterStrict } from "../config/index.js";
import { getCluster } from "../discovery/index.js";
import type { Logger } from "../log/index.js";
import type { FetchHandler, Listener } from "../runtime/index.js";
import { ClusterFile, clusterFromPeers, proxyDir } from "./cluster.js";
import { Director } from "./director.js";
import { createProxyHandler } from "./handler.js";

/** etcd's bound on asking the peers for the membership. */
const MEMBERS_TIMEOUT_MS = 10_000;

/** What {@link startProxy} needs from the entry. */
export interface StartProxyOptions {
  readonly config: Config;
  readonly logger: Logger;
  /** Listens on one client URL (through the runtime adapter's `serve`). */
  readonly serve: (handler: FetchHandler, url: string) => Promise<Listener>;
  /** The fetch for discovery requests (through `--discovery-proxy` when given). */
  readonly discoveryFetch?: typeof fetch;
}

/** A running proxy. */
export interface RunningProxy {
  close(): Promise<void>;
}

/** The peer URLs to start from: the cluster file, else discovery, else `--initial-cluster`. */
async function initialPeers(
  config: Config,
  file: ClusterFile,
  log: Logger,
  discoveryFetch: typeof fetch | undefined,
): Promise<string[]> {
  const stored = await file.read();
  if (stored !== undefined) {
    if (config.discovery !== "") {
      log.warn(
        "discovery token ignored since the proxy has already been initialized; valid cluster file found",
        { "cluster-file": file.path },
      );
    }
    if (config.discoverySrv !== "") {
      log.warn(
        "DNS SRV discovery ignored since the proxy has already been initialized; valid cluster file found",
        { "cluster-file": file.path },
      );
    }
    log.info("proxy using peer URLS from cluster file", {
      "peer-urls": stored,
      "cluster-file": file.path,
    });
    return stored;
  }
  if (config.discoverySrv !== "" && config.discovery === "") {
    // etcd builds the peers from SRV records here; Cairn's proxy does not look them up yet.
    throw new Error(
      "--discovery-srv: the v2 proxy cannot find the cluster by DNS SRV yet; use --initial-cluster or --discovery",
    );
  }
  const text =
    config.discovery === ""
      ? config.initialCluster
      : await getCluster({
          discoveryUrl: config.discovery,
          logger: log,
          ...(discoveryFetch === undefined ? {} : { fetch: discoveryFetch }),
        });
  const peers = [...parseInitialClusterStrict(text).values()].flat().sort();
  log.info("proxy using peer URLS", { "peer-urls": peers });
  return peers;
}

/**
 * Starts the proxy: finds the cluster's peers, learns the client URLs from
 * them (refreshed every `--proxy-refresh-interval`, each time stored in the
 * cluster file), and serves every `--listen-client-urls`. Throws
 * `DiscoveryError` / `ConfigError` when the cluster cannot be found, and the
 * listen error when a client URL cannot be bound.
 */
export async function startProxy(options: StartProxyOptions): Promise<RunningProxy> {
  const { config, logger: log } = options;
  log.info("v2 API proxy starting", { mode: config.proxy === "readonly" ? "readonly" : "on" });
  const file = new ClusterFile(config.dataDir);
  // etcd creates the proxy directory first: from now on this data dir is a
  // proxy's. The cluster file is written on each successful refresh.
  await mkdir(proxyDir(config.dataDir), { recursive: true, mode: 0o700 });
  let peers = await initialPeers(config, file, log, options.discoveryFetch);

  const director = new Director({
    failureWaitMs: config.proxyFailureWaitMs,
    refreshIntervalMs: config.proxyRefreshIntervalMs,
    logger: log,
    urls: async () => {
      const cluster = await clusterFromPeers(peers, { timeoutMs: MEMBERS_TIMEOUT_MS, logger: log });
      if (cluster === undefined) {
        log.warn("failed to get cluster from remote peers", {
          "peer-urls": peers,
          error: "could not retrieve cluster information from the given URLs",
        });
        return [];
      }
      try {
        await file.write(cluster.peerUrls);
      } catch (error) {
        log.warn("proxy failed to write cluster file", {
          error: error instanceof Error ? error.message : String(error),
        });
        return cluster.clientUrls;
      }
      if (cluster.peerUrls.join(",") !== peers.join(",")) {
        log.info("proxy updated peer URLs", { from: peers, to: cluster.peerUrls });
      }
      peers = cluster.peerUrls;
      return cluster.clientUrls;
    },
  });
  await director.start();

  const handler = createProxyHandler({
    director,
    readonly: config.proxy === "readonly",
    cors: config.cors,
    readTimeoutMs: config.proxyReadTimeoutMs,
    logger: log,
  });
  const listeners: Listener[] = [];
  try {
    for (const url of config.listenClientUrls) {
      listeners.push(await options.serve(handler, url));
      log.info("v2 proxy started listening on client requests", { host: url });
    }
  } catch (error) {
    director.stop();
    await Promise.all(listeners.map((l) => l.close()));
    throw error;
  }
  return {
    async close() {
      director.stop();
      await Promise.all(listeners.map((l) => l.close()));
    },
  };
}
