#!/usr/bin/env node
/**
 * The Cairn member binary: etcd's flags and ETCD_* variables in, a running
 * member out. The only file that knows which runtime it is on (through the
 * adapter it picks once) and that calls `serve`.
 */
import { createKeysRoute, createKvApi, type KeysRoute } from "@cairn/kv-api";
import { BootstrapError, computeMemberId, formatId, Member } from "@cairn/server";
import {
  type Config,
  ConfigError,
  checkBootstrap,
  formatInitialCluster,
  helpText,
  parseConfig,
  parseConfigFile,
  parseResolverAddress,
  USAGE_TEXT,
  versionText,
} from "./config/index.js";
import {
  clusterFromSrv,
  DiscoveryError,
  discoveryProxyUrl,
  joinCluster,
  type SrvCluster,
  SrvError,
} from "./discovery/index.js";
import { createJsonLogger, type Logger } from "./log/index.js";
import { MemberBackend } from "./member-backend.js";
import { hasProxyData, type RunningProxy, startProxy } from "./proxy/index.js";
import { detectRuntime, type Listener, type RuntimeAdapter } from "./runtime/index.js";

/** Cairn's own version, printed by `--version`. */
const CAIRN_VERSION = "0.1.0";

async function loadConfig(rt: RuntimeAdapter): Promise<{ config: Config; log: Logger } | number> {
  let parsed = parseConfig(rt.argv(), rt.env());
  if (parsed.kind === "help") {
    rt.writeStdout(helpText());
    return 0;
  }
  if (parsed.kind === "version") {
    rt.writeStdout(versionText({ cairnVersion: CAIRN_VERSION, runtime: rt.name }));
    return 0;
  }
  if (parsed.kind === "config-file") {
    parsed = parseConfigFile(await rt.readTextFile(parsed.path), parsed.path);
  }
  if (parsed.kind !== "run") return 1;
  const log = createJsonLogger({
    sink: (line) => rt.writeStderr(line),
    level: parsed.config.logLevel as "debug" | "info" | "warn" | "error",
  });
  for (const n of parsed.notices) log[n.level](n.msg, { ...n.fields });
  return { config: parsed.config, log };
}

function hostPort(url: string): { hostname: string; port: number } {
  const u = new URL(url);
  const hostname = u.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = u.port === "" ? (u.protocol === "https:" ? 443 : 80) : Number(u.port);
  return { hostname, port };
}

/**
 * The fetch for discovery traffic: through `--discovery-proxy` when given
 * (etcd's wording and logging), else undefined (the global fetch).
 */
async function discoveryFetch(
  rt: RuntimeAdapter,
  config: Config,
  log: Logger,
): Promise<typeof fetch | undefined> {
  if (config.discoveryProxy === "") return undefined;
  const url = discoveryProxyUrl(config.discoveryProxy);
  log.info("running proxy with discovery", { "proxy-url": url });
  return rt.proxiedFetch(url);
}

/** Prints a discovery failure as etcd does; the exit status. */
function discoveryFailed(rt: RuntimeAdapter, log: Logger, error: DiscoveryError): number {
  log.error("discovery failed", { error: error.summary });
  rt.writeStderr(`${error.summary}\n`);
  return 1;
}

/**
 * Runs as etcd's v2 proxy (spec bootstrap §3.4) until a signal: no member,
 * the client URLs forward to the cluster. The exit status.
 */
async function runProxy(rt: RuntimeAdapter, config: Config, log: Logger): Promise<number> {
  let proxy: RunningProxy;
  try {
    const f = config.discovery === "" ? undefined : await discoveryFetch(rt, config, log);
    proxy = await startProxy({
      config,
      logger: log,
      serve: (handler, url) => rt.serve(handler, hostPort(url)),
      ...(f === undefined ? {} : { discoveryFetch: f }),
    });
  } catch (error) {
    if (error instanceof DiscoveryError) return discoveryFailed(rt, log, error);
    const message = error instanceof Error ? error.message : String(error);
    log.error("failed to start the v2 proxy", { error: message });
    rt.writeStderr(`${message}\n`);
    return 1;
  }
  const signal = await new Promise<string>((resolve) => rt.onShutdown(resolve));
  log.info("received signal; shutting down", { signal });
  await proxy.close();
  return 0;
}

/**
 * Bootstrap by discovery URL (spec bootstrap §3): registers with the service
 * and waits for the cluster to fill. Returns the initial cluster string,
 * `"proxy"` for a full cluster with the proxy fallback, or the exit status
 * after printing why it cannot.
 */
async function discoverCluster(
  rt: RuntimeAdapter,
  config: Config,
  log: Logger,
): Promise<string | number> {
  if (config.initialClusterState === "existing") {
    // etcd's VerifyJoinExisting refuses discovery before any request (spec §2).
    checkBootstrap(
      config,
      formatInitialCluster(new Map([[config.name, config.initialAdvertisePeerUrls]])),
    );
  }
  const id = computeMemberId(config.initialAdvertisePeerUrls, config.discovery);
  log.info("bootstrapping by discovery URL", {
    "discovery-url": config.discovery,
    "local-member-id": formatId(id),
  });
  try {
    const f = await discoveryFetch(rt, config, log);
    return await joinCluster({
      discoveryUrl: config.discovery,
      id,
      name: config.name,
      peerUrls: config.initialAdvertisePeerUrls,
      logger: log,
      ...(f === undefined ? {} : { fetch: f }),
    });
  } catch (error) {
    if (!(error instanceof DiscoveryError)) throw error;
    if (error.code === "FULL_CLUSTER" && config.discoveryFallback === "proxy") {
      // Nothing was registered; run as a v2 proxy to the cluster (spec §3.4).
      log.warn("discovery cluster full, falling back to proxy", {
        "discovery-url": config.discovery,
      });
      return "proxy";
    }
    if (error.code === "DUPLICATE_ID") {
      log.warn("member has been registered with discovery service", {
        name: config.name,
        "discovery-token": config.discovery,
        error: error.message,
      });
      log.warn("but could not find valid cluster configuration", { "data-dir": config.dataDir });
      log.warn("check data dir if previous bootstrap succeeded");
      log.warn("or use a new discovery token if previous bootstrap failed");
    } else if (error.code === "DUPLICATE_NAME") {
      log.warn("member with duplicated name has already been registered", {
        "discovery-token": config.discovery,
        error: error.message,
      });
      log.warn("cURL the discovery token URL for details");
      log.warn("do not reuse discovery token; generate a new one to bootstrap a cluster");
    } else if (error.code !== "FULL_CLUSTER") {
      log.warn("failed to bootstrap; discovery token was already used", {
        "discovery-token": config.discovery,
        error: error.message,
      });
      log.warn("do not reuse discovery token; generate a new one to bootstrap a cluster");
    }
    return discoveryFailed(rt, log, error);
  }
}

/**
 * Bootstrap by DNS SRV (spec bootstrap §4): the initial cluster from the
 * domain's server records, asked of `--discovery-srv-resolver` or the
 * system resolver. Returns it, or the exit status after printing why not.
 */
async function srvCluster(
  rt: RuntimeAdapter,
  config: Config,
  log: Logger,
): Promise<SrvCluster | number> {
  const server =
    config.discoverySrvResolver === ""
      ? undefined
      : parseResolverAddress(config.discoverySrvResolver);
  try {
    return await clusterFromSrv({
      domain: config.discoverySrv,
      suffix: config.discoverySrvName,
      name: config.name,
      advertisePeerUrls: config.initialAdvertisePeerUrls,
      resolver: rt.dnsResolver(server),
      logger: log,
    });
  } catch (error) {
    if (!(error instanceof SrvError)) throw error;
    log.error("failed to bootstrap from DNS SRV records", { error: error.summary });
    rt.writeStderr(`${error.summary}\n`);
    return 1;
  }
}

/**
 * Holds client requests until the member has published its name and client
 * URLs through raft, as etcd serves its bound client listeners only after
 * ReadyNotify: a client never meets a member the cluster does not list yet.
 * A restarted member whose records already hold its attributes serves at once.
 */
function publishGate(member: Member): {
  /** `handler`, holding requests until the member has published. */
  hold<A extends unknown[]>(
    handler: (request: Request, ...rest: A) => Response | Promise<Response>,
  ): (request: Request, ...rest: A) => Response | Promise<Response>;
  /** `route`, declining requests (to the held handler) until the member has published. */
  keys(route: KeysRoute): KeysRoute;
} {
  let ready = false;
  let stopped = false;
  const published = new Promise<void>((resolve) => {
    const check = () => {
      if (member.published) {
        ready = true;
        resolve();
      } else if (!stopped) {
        setTimeout(check, 5);
      }
    };
    // A member that stops before publishing lets the held requests through
    // to the backend's own answer; the listeners close with it.
    void member.stopped.then(() => {
      stopped = true;
      resolve();
    });
    check();
  });
  return {
    // Every argument passes through: the Node adapter hands the raw request
    // (method, target bytes) to the app beside the Web Request.
    hold:
      (handler) =>
      (request, ...rest) =>
        ready ? handler(request, ...rest) : published.then(() => handler(request, ...rest)),
    keys: (route) => (call) => (ready ? route(call) : undefined),
  };
}

async function run(rt: RuntimeAdapter): Promise<number> {
  let loaded: Awaited<ReturnType<typeof loadConfig>>;
  try {
    loaded = await loadConfig(rt);
  } catch (error) {
    if (error instanceof ConfigError) {
      rt.writeStderr(`${error.message}\n`);
      if (error.showUsage) rt.writeStderr(USAGE_TEXT);
      return error.exitCode;
    }
    throw error;
  }
  if (typeof loaded === "number") return loaded;
  const { config, log } = loaded;

  // etcd checks the initial cluster only for a member without data; on a
  // restart the bootstrap flags, discovery's included, are ignored (spec bootstrap §2).
  let initialCluster = new Map<string, string[]>();
  let initialClusterState = config.initialClusterState;
  let initialClusterToken = config.initialClusterToken;
  let peerUrls = config.initialAdvertisePeerUrls;
  // A data dir holding a proxy restarts as one, whatever the flags (etcd's identifyDataDir).
  const memberData = Member.hasData(config.dataDir);
  if (memberData && hasProxyData(config.dataDir)) {
    log.error("invalid datadir; both member and proxy directories exist");
    rt.writeStderr("invalid datadir; both member and proxy directories exist\n");
    return 1;
  }
  if (hasProxyData(config.dataDir) || (!memberData && config.proxy !== "off")) {
    return runProxy(rt, config, log);
  }
  try {
    if (config.discovery !== "" && !memberData) {
      const found = await discoverCluster(rt, config, log);
      if (typeof found === "number") return found;
      if (found === "proxy") return runProxy(rt, config, log);
      initialCluster = checkBootstrap(config, found);
      // The discovery URL is the cluster token (spec bootstrap §1); the cluster is always new.
      initialClusterState = "new";
      initialClusterToken = config.discovery;
    } else if (config.discoverySrv !== "" && !memberData) {
      const found = await srvCluster(rt, config, log);
      if (typeof found === "number") return found;
      // The records name this member by their targets; its advertised URLs
      // matched them by resolved address (spec bootstrap §4.2), so the
      // records' spelling is the one the cluster (and the id hash) uses.
      peerUrls = found.peerUrls;
      initialCluster = checkBootstrap(
        { ...config, initialAdvertisePeerUrls: peerUrls },
        found.initialCluster,
      );
    } else if (!memberData) {
      initialCluster = checkBootstrap(config);
    }
  } catch (error) {
    if (error instanceof ConfigError) {
      rt.writeStderr(`${error.message}\n`);
      return error.exitCode;
    }
    throw error;
  }

  log.info("starting a member", {
    name: config.name,
    "data-dir": config.dataDir,
    runtime: rt.name,
    "cairn-version": CAIRN_VERSION,
    "initial-cluster-state": initialClusterState,
  });
  let member: Member;
  try {
    member = await Member.open({
      name: config.name,
      dataDir: config.dataDir,
      peerUrls,
      clientUrls: config.advertiseClientUrls,
      initialCluster,
      initialClusterState,
      initialClusterToken,
      heartbeatIntervalMs: config.heartbeatIntervalMs,
      electionTimeoutMs: config.electionTimeoutMs,
      snapshotCount: config.snapshotCount,
      strictReconfigCheck: config.strictReconfigCheck,
      historySize: config.v2HistorySize,
      forceNewCluster: config.forceNewCluster,
      logger: log,
      ...(rt.dialStream === undefined ? {} : { dialStream: rt.dialStream }),
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    log.error(error instanceof BootstrapError ? message : "failed to open the member", {
      error: message,
    });
    rt.writeStderr(`${message}\n`);
    return 1;
  }

  const listeners: Listener[] = [];
  try {
    const peerApp = member.peerApi();
    for (const url of config.listenPeerUrls) {
      listeners.push(await rt.serve(peerApp.fetch, hostPort(url)));
      log.info("listening for peers", { address: url });
    }
    const backend = new MemberBackend(member);
    const app = createKvApi(backend, { cors: config.cors });
    const gate = publishGate(member);
    const serveClients = gate.hold(app.fetch);
    const keys = gate.keys(createKeysRoute(backend, { cors: config.cors }));
    for (const url of config.listenClientUrls) {
      listeners.push(await rt.serve(serveClients, { ...hostPort(url), keys }));
      log.info("serving client traffic insecurely; this is strongly discouraged!", {
        address: url,
      });
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    log.error("failed to listen", { error: message });
    rt.writeStderr(`listen failed: ${message}\n`);
    await member.stop("listen failed");
    for (const l of listeners) await l.close();
    return 1;
  }
  member.start();

  let exitCode = 0;
  rt.onShutdown((signal) => {
    log.info("received signal; shutting down", { signal });
    void member.stop(`signal ${signal}`);
  });
  const reason = await member.stopped;
  // etcd exits 0 when it finds itself removed from the cluster; 1 on a fatal error.
  if (reason === "fatal error") exitCode = 1;
  await Promise.all(listeners.map((l) => l.close()));
  return exitCode;
}

const runtime = await detectRuntime();
try {
  runtime.exit(await run(runtime));
} catch (error) {
  runtime.writeStderr(
    `cairn: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  runtime.exit(1);
}
