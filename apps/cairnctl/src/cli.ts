/**
 * cairnctl: etcdctl's v2 command set (etcdctl-v2.md) on `@cairn/client`.
 * `run(argv, io)` is the whole program; it returns the exit code instead of
 * exiting, so tests run it in-process. Dispatch follows urfave/cli v1 as
 * etcdctl 3.4.23 uses it: global flags, then a command, its flags, its args.
 */

import {
  Client,
  ClientAbortedError,
  ClientTimeoutError,
  ClusterUnavailableError,
  type FetchLike,
  goQuote,
  type KeysResponse,
  NoEndpointsError,
  type RequestInfo,
} from "@cairn/client";
import { runBackup } from "./backup.js";
import {
  type FlagDef,
  FlagError,
  type FlagValues,
  HelpRequested,
  parseGoFlags,
  reorderArgs,
} from "./flags.js";
import { formatResponse } from "./format.js";
import { appHelp, type CommandSpec, commandHelp, subcommandHelp } from "./help.js";
import type { CliIO } from "./io.js";
import { PROGRAM, VERSION } from "./version.js";

/** Exit codes of etcdctl v2 (etcdctl-v2.md §2). */
export const ExitCode = {
  Success: 0,
  BadArgs: 1,
  BadConnection: 2,
  BadFeature: 3,
  ServerError: 4,
  ClusterNotHealthy: 5,
} as const;

/** Ends the command with an exit code (etcdctl calls `os.Exit`). */
class Exit extends Error {
  override readonly name = "Exit";
  readonly code = "EXIT";
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
  }
}

const HELP_FLAG: FlagDef = { names: ["help", "h"], kind: "bool", usage: "show help" };
const VERSION_FLAG: FlagDef = { names: ["version", "v"], kind: "bool", usage: "print the version" };

/** Global options, in etcdctl's order. */
export const GLOBAL_FLAGS: readonly FlagDef[] = [
  {
    names: ["debug"],
    kind: "bool",
    usage: "output cURL commands which can be used to reproduce the request",
  },
  {
    names: ["no-sync"],
    kind: "bool",
    usage: "don't synchronize cluster information before sending request",
  },
  {
    names: ["output", "o"],
    kind: "string",
    defaultValue: "simple",
    usage: "output response in the given format (`simple`, `extended` or `json`)",
  },
  {
    names: ["discovery-srv", "D"],
    kind: "string",
    usage: "domain name to query for SRV records describing cluster endpoints",
  },
  {
    names: ["insecure-discovery"],
    kind: "bool",
    usage: "accept insecure SRV records describing cluster endpoints",
  },
  {
    names: ["peers", "C"],
    kind: "string",
    usage: 'DEPRECATED - "--endpoints" should be used instead',
  },
  {
    names: ["endpoint"],
    kind: "string",
    usage: 'DEPRECATED - "--endpoints" should be used instead',
  },
  {
    names: ["endpoints"],
    kind: "string",
    usage:
      'a comma-delimited list of machine addresses in the cluster (default: "http://127.0.0.1:2379,http://127.0.0.1:4001")',
  },
  {
    names: ["cert-file"],
    kind: "string",
    usage: "identify HTTPS client using this SSL certificate file",
  },
  { names: ["key-file"], kind: "string", usage: "identify HTTPS client using this SSL key file" },
  {
    names: ["ca-file"],
    kind: "string",
    usage: "verify certificates of HTTPS-enabled servers using this CA bundle",
  },
  {
    names: ["username", "u"],
    kind: "string",
    usage: "provide username[:password] and prompt if password is not supplied.",
  },
  {
    names: ["timeout"],
    kind: "duration",
    defaultValue: "2s",
    usage: "connection timeout per request",
  },
  {
    names: ["total-timeout"],
    kind: "duration",
    defaultValue: "5s",
    usage: "timeout for the command execution (except watch)",
  },
  HELP_FLAG,
  VERSION_FLAG,
];

const DEFAULT_ENDPOINTS = "http://127.0.0.1:2379,http://127.0.0.1:4001";

const ttlFlag: FlagDef = {
  names: ["ttl"],
  kind: "int",
  defaultValue: "0",
  usage: "key time-to-live in seconds",
};

/** One invocation's state: I/O, global values, the command's flags and arguments. */
interface Ctx {
  readonly io: CliIO;
  readonly global: FlagValues;
  readonly flags: FlagValues;
  readonly args: readonly string[];
}

interface Command extends CommandSpec {
  readonly action?: (ctx: Ctx) => Promise<void>;
  readonly subcommands?: readonly Command[];
}

const str = (v: FlagValues, k: string) => String(v.get(k) ?? "");
const bool = (v: FlagValues, k: string) => v.get(k) === true;
const int = (v: FlagValues, k: string) => Number(v.get(k) ?? 0);
const output = (ctx: Ctx) => str(ctx.global, "output");

/** etcdctl's `handleError`: `Error:  <err>` (+ cluster detail) on stderr, then exit. */
function handleError(ctx: Ctx, code: number, err: unknown): never {
  const message = err instanceof Error ? err.message : String(err);
  ctx.io.stderr(`Error:  ${message}\n`);
  if (err instanceof ClusterUnavailableError) ctx.io.stderr(`${err.detail()}\n`);
  throw new Exit(code);
}

function printResponse(ctx: Ctx, r: KeysResponse): void {
  const text = formatResponse(r, output(ctx));
  if (text === undefined) ctx.io.stderr(`Unsupported output format: ${output(ctx)}\n`);
  else ctx.io.stdout(text);
}

/** `value` argument or all of stdin (etcdctl's `argOrStdin`). */
async function argOrStdin(ctx: Ctx, i: number): Promise<string | undefined> {
  if (i < ctx.args.length) return ctx.args[i];
  const text = await ctx.io.readStdin();
  return text === "" ? undefined : text;
}

/**
 * Go's `url.Parse` checks on an endpoint, as etcdctl runs them before any
 * request: `127.0.0.1:2379` fails ("first path segment in URL cannot contain
 * colon"), a bare host gets `http://`.
 */
function checkEndpoint(ep: string): string {
  let scheme = "";
  for (let i = 0; i < ep.length; i++) {
    const c = ep[i]!;
    if (/[a-zA-Z]/.test(c)) continue;
    if (/[0-9+.-]/.test(c)) {
      if (i === 0) break;
      continue;
    }
    if (c === ":") {
      if (i === 0) throw new Error(`parse ${JSON.stringify(ep)}: missing protocol scheme`);
      scheme = ep.slice(0, i);
    }
    break;
  }
  if (scheme === "") {
    const firstSegment = ep.split("/")[0] ?? "";
    if (!ep.startsWith("/") && firstSegment.includes(":")) {
      throw new Error(
        `parse ${JSON.stringify(ep)}: first path segment in URL cannot contain colon`,
      );
    }
    return `http://${ep}`;
  }
  if (scheme !== "http" && scheme !== "https") {
    throw new Error(`unsupported protocol scheme ${JSON.stringify(scheme)}`);
  }
  return ep;
}

/** SRV discovery of client URLs (bootstrap.md §4.4); `[]` when no domain is set. */
async function discoverEndpoints(ctx: Ctx): Promise<string[]> {
  const { io, global } = ctx;
  const domain = str(global, "discovery-srv") || (io.env.ETCDCTL_DISCOVERY_SRV ?? "");
  if (domain === "") return [];
  const insecure =
    bool(global, "insecure-discovery") || (io.env.ETCDCTL_INSECURE_DISCOVERY ?? "") !== "";
  const suffix = io.env.ETCDCTL_DISCOVERY_SRV_NAME ?? "";
  const service = (s: string) => `_${s}${suffix === "" ? "" : `-${suffix}`}._tcp.${domain}`;
  const found: string[] = [];
  const errors: string[] = [];
  for (const [svc, scheme] of [
    ["etcd-client-ssl", "https"],
    ["etcd-client", "http"],
  ] as const) {
    try {
      const records = await io.resolveSrv(service(svc));
      for (const r of records)
        found.push(`${scheme}://${r.name.endsWith(".") ? r.name : `${r.name}.`}:${r.port}`);
    } catch (error) {
      errors.push(error instanceof Error ? error.message : String(error));
    }
  }
  if (errors.length === 2) throw new Error(`dns lookup errors: ${errors[0]} and ${errors[1]}`);
  if (insecure) return found;
  return found.filter((ep) => {
    if (!ep.startsWith("http://")) return true;
    io.stderr(`ignoring discovered insecure endpoint ${JSON.stringify(ep)}\n`);
    return false;
  });
}

function endpointFlags(ctx: Ctx): string[] {
  const { io, global } = ctx;
  const raw =
    str(global, "endpoints") ||
    io.env.ETCDCTL_ENDPOINTS ||
    str(global, "endpoint") ||
    io.env.ETCDCTL_ENDPOINT ||
    str(global, "peers") ||
    io.env.ETCDCTL_PEERS ||
    DEFAULT_ENDPOINTS;
  return raw.split(",");
}

/** etcdctl's `newClient`: endpoints, timeouts, credentials, TLS; errors print raw and exit 1. */
async function newClient(ctx: Ctx): Promise<Client> {
  const { io, global } = ctx;
  let endpoints: string[];
  let fetchImpl: FetchLike | undefined = io.fetch;
  let username: string | undefined;
  let password: string | undefined;
  try {
    const discovered = await discoverEndpoints(ctx);
    endpoints = (discovered.length > 0 ? discovered : endpointFlags(ctx)).map(checkEndpoint);
    const caFile = str(global, "ca-file") || io.env.ETCDCTL_CA_FILE || "";
    const certFile = str(global, "cert-file") || io.env.ETCDCTL_CERT_FILE || "";
    const keyFile = str(global, "key-file") || io.env.ETCDCTL_KEY_FILE || "";
    if (caFile !== "" || certFile !== "" || keyFile !== "") {
      const domain = str(global, "discovery-srv") || (io.env.ETCDCTL_DISCOVERY_SRV ?? "");
      const insecure =
        bool(global, "insecure-discovery") || (io.env.ETCDCTL_INSECURE_DISCOVERY ?? "") !== "";
      const tlsFetch = io.fetchWithTls?.({
        ...(caFile !== "" ? { caFile } : {}),
        ...(certFile !== "" ? { certFile } : {}),
        ...(keyFile !== "" ? { keyFile } : {}),
        ...(domain !== "" && !insecure ? { serverName: domain } : {}),
      });
      if (tlsFetch === undefined) {
        throw new Error(
          "TLS client files (--ca-file, --cert-file, --key-file) are not supported on this runtime yet",
        );
      }
      fetchImpl = tlsFetch;
    }
    const user = str(global, "username") || io.env.ETCDCTL_USERNAME || "";
    if (user !== "") {
      const colon = user.indexOf(":");
      if (colon === -1) {
        username = user;
        password = await io.promptPassword("Password: ");
      } else {
        username = user.slice(0, colon);
        password = user.slice(colon + 1);
      }
    }
  } catch (error) {
    io.stderr(`${error instanceof Error ? error.message : String(error)}\n`);
    throw new Exit(ExitCode.BadArgs);
  }
  const debug = bool(global, "debug");
  return new Client({
    endpoints,
    requestTimeoutMs: int(global, "timeout"),
    ...(fetchImpl !== undefined ? { fetch: fetchImpl } : {}),
    ...(username !== undefined ? { username, password: password ?? "" } : {}),
    ...(debug
      ? {
          onRequest: (r: RequestInfo) =>
            io.stderr(
              `cURL Command: curl -X ${r.method} ${r.url}${r.body !== undefined ? ` -d ${goQuote(r.body)}` : ""}\n`,
            ),
        }
      : {}),
  });
}

/** etcdctl's `mustNewClient`: a client, member-synced unless `--no-sync`. */
async function syncedClient(ctx: Ctx): Promise<Client> {
  const { io, global } = ctx;
  const client = await newClient(ctx);
  const debug = bool(global, "debug");
  if (!bool(global, "no-sync")) {
    if (debug) io.stderr(`start to sync cluster using endpoints(${client.endpoints.join(",")})\n`);
    try {
      await client.sync({ timeoutMs: int(global, "total-timeout") });
    } catch (error) {
      if (error instanceof NoEndpointsError) {
        io.stderr("etcd cluster has no published client endpoints.\n");
        io.stderr(
          `Try '--no-sync' if you want to access non-published client endpoints(${client.endpoints.join(",")}).\n`,
        );
        handleError(ctx, ExitCode.ServerError, error);
      }
      if (
        (error instanceof ClusterUnavailableError && error.isConnectionFailure()) ||
        error instanceof ClientTimeoutError
      ) {
        handleError(ctx, ExitCode.BadConnection, error);
      }
      // Any other sync failure is ignored, as etcdctl does: the command then uses the given endpoints.
    }
    if (debug) io.stderr(`got endpoints(${client.endpoints.join(",")}) after sync\n`);
  }
  if (debug) io.stderr(`Cluster-Endpoints: ${client.endpoints.join(", ")}\n`);
  return client;
}

function totalTimeout(ctx: Ctx): { timeoutMs: number } {
  return { timeoutMs: int(ctx.global, "total-timeout") };
}

function keyArg(ctx: Ctx): string {
  if (ctx.args.length === 0) handleError(ctx, ExitCode.BadArgs, new Error("key required"));
  return ctx.args[0]!;
}

async function valueArg(ctx: Ctx): Promise<string> {
  const value = await argOrStdin(ctx, 1);
  if (value === undefined) handleError(ctx, ExitCode.BadArgs, new Error("value required"));
  return value;
}

async function keysCall(
  ctx: Ctx,
  call: (c: Client) => Promise<KeysResponse>,
): Promise<KeysResponse> {
  const client = await syncedClient(ctx);
  try {
    return await call(client);
  } catch (error) {
    return handleError(ctx, ExitCode.ServerError, error);
  }
}

// ---- key commands (etcdctl-v2.md §5) ----

async function setAction(ctx: Ctx): Promise<void> {
  const key = keyArg(ctx);
  const value = await valueArg(ctx);
  const r = await keysCall(ctx, (c) =>
    c.set(key, value, {
      ttl: int(ctx.flags, "ttl"),
      prevValue: str(ctx.flags, "swap-with-value"),
      prevIndex: int(ctx.flags, "swap-with-index"),
      ...totalTimeout(ctx),
    }),
  );
  printResponse(ctx, r);
}

async function mkAction(ctx: Ctx): Promise<void> {
  const key = keyArg(ctx);
  const value = await valueArg(ctx);
  const ttl = int(ctx.flags, "ttl");
  const r = await keysCall(ctx, (c) =>
    bool(ctx.flags, "in-order")
      ? c.createInOrder(key, value, { ttl, ...totalTimeout(ctx) })
      : c.create(key, value, { ttl, ...totalTimeout(ctx) }),
  );
  printResponse(ctx, r);
}

async function updateAction(ctx: Ctx): Promise<void> {
  const key = keyArg(ctx);
  const value = await valueArg(ctx);
  const r = await keysCall(ctx, (c) =>
    c.update(key, value, { ttl: int(ctx.flags, "ttl"), ...totalTimeout(ctx) }),
  );
  printResponse(ctx, r);
}

async function getAction(ctx: Ctx): Promise<void> {
  const key = keyArg(ctx);
  const r = await keysCall(ctx, (c) =>
    c.get(key, {
      sorted: bool(ctx.flags, "sort"),
      quorum: bool(ctx.flags, "quorum"),
      ...totalTimeout(ctx),
    }),
  );
  if (r.node.dir) {
    ctx.io.stderr(`${r.node.key}: is a directory\n`);
    throw new Exit(ExitCode.BadArgs);
  }
  printResponse(ctx, r);
}

async function rmAction(ctx: Ctx): Promise<void> {
  const key = keyArg(ctx);
  const r = await keysCall(ctx, (c) =>
    c.delete(key, {
      dir: bool(ctx.flags, "dir"),
      recursive: bool(ctx.flags, "recursive"),
      prevValue: str(ctx.flags, "with-value"),
      prevIndex: int(ctx.flags, "with-index"),
      ...totalTimeout(ctx),
    }),
  );
  if (!r.node.dir || output(ctx) !== "simple") printResponse(ctx, r);
}

async function rmdirAction(ctx: Ctx): Promise<void> {
  const key = keyArg(ctx);
  const r = await keysCall(ctx, (c) => c.delete(key, { dir: true, ...totalTimeout(ctx) }));
  if (!r.node.dir || output(ctx) !== "simple") printResponse(ctx, r);
}

function dirAction(kind: "mkdir" | "setdir" | "updatedir") {
  return async (ctx: Ctx): Promise<void> => {
    const key = keyArg(ctx);
    const opts = { ttl: int(ctx.flags, "ttl"), ...totalTimeout(ctx) };
    const r = await keysCall(ctx, (c) =>
      kind === "mkdir"
        ? c.mkdir(key, opts)
        : kind === "setdir"
          ? c.setDir(key, opts)
          : c.updateDir(key, opts),
    );
    if (output(ctx) !== "simple") printResponse(ctx, r);
  };
}

async function lsAction(ctx: Ctx): Promise<void> {
  const key = ctx.args[0] ?? "/";
  const r = await keysCall(ctx, (c) =>
    c.get(key, {
      sorted: bool(ctx.flags, "sort"),
      recursive: bool(ctx.flags, "recursive"),
      quorum: bool(ctx.flags, "quorum"),
      ...totalTimeout(ctx),
    }),
  );
  if (output(ctx) !== "simple") {
    printResponse(ctx, r);
    return;
  }
  const slash = bool(ctx.flags, "p");
  const lines: string[] = [];
  const walk = (n: KeysResponse["node"]) => {
    lines.push(n.dir && slash ? `${n.key}/` : n.key);
    for (const child of n.nodes ?? []) walk(child);
  };
  if (!r.node.dir) lines.push(r.node.key);
  for (const child of r.node.nodes ?? []) walk(child);
  ctx.io.stdout(lines.map((l) => `${l}\n`).join(""));
}

/** The watch loop shared by `watch` and `exec-watch`. */
async function watchLoop(
  ctx: Ctx,
  key: string,
  afterIndex: number,
  recursive: boolean,
  onEvent: (r: KeysResponse) => Promise<boolean>,
): Promise<void> {
  const client = await syncedClient(ctx);
  const watcher = client.watch(key, {
    recursive,
    afterIndex,
    signal: ctx.io.interrupt,
    // etcdctl gives up when the cluster is gone; we allow a member restart of up to --total-timeout.
    reconnectTimeoutMs: int(ctx.global, "total-timeout"),
  });
  for (;;) {
    let r: KeysResponse;
    try {
      const step = await watcher.next();
      if (step.done) return;
      r = step.value;
    } catch (error) {
      if (error instanceof ClientAbortedError || ctx.io.interrupt.aborted) return; // Ctrl-C: exit 0
      return handleError(ctx, ExitCode.ServerError, error);
    }
    if (!(await onEvent(r))) {
      watcher.close();
      return;
    }
  }
}

async function watchAction(ctx: Ctx): Promise<void> {
  const key = keyArg(ctx);
  const recursive = bool(ctx.flags, "recursive");
  const forever = bool(ctx.flags, "forever");
  await watchLoop(ctx, key, int(ctx.flags, "after-index"), recursive, async (r) => {
    if (r.node.dir) return true; // directory events are skipped silently
    if (recursive) ctx.io.stdout(`[${r.action}] ${r.node.key}\n`);
    printResponse(ctx, r);
    return forever;
  });
}

async function execWatchAction(ctx: Ctx): Promise<void> {
  const args = ctx.args;
  if (args.length < 2)
    handleError(ctx, ExitCode.BadArgs, new Error("key and command to exec required"));
  let key: string;
  let cmd: string[];
  if (args.slice(1).includes("--")) {
    key = args[0]!;
    cmd = args.slice(2);
  } else {
    // Without `--` urfave leaves the key last (etcdctl's own comment on this quirk).
    key = args[args.length - 1]!;
    cmd = args.slice(0, -1);
  }
  // As observed with etcdctl 3.4.23 (`--debug`): waitIndex = after-index + 1, as for `watch`.
  await watchLoop(
    ctx,
    key,
    int(ctx.flags, "after-index"),
    bool(ctx.flags, "recursive"),
    async (r) => {
      if (r.node.dir) {
        ctx.io.stderr(`Ignored dir ${r.node.key} change\n`);
        return true;
      }
      if (cmd.length === 0)
        handleError(ctx, ExitCode.BadArgs, new Error("key and command to exec required"));
      const env: Record<string, string> = {
        ETCD_WATCH_ACTION: r.action,
        ETCD_WATCH_MODIFIED_INDEX: String(r.node.modifiedIndex),
        ETCD_WATCH_KEY: r.node.key,
        ETCD_WATCH_VALUE: r.node.value ?? "",
      };
      try {
        await ctx.io.spawn(cmd[0]!, cmd.slice(1), env);
      } catch (error) {
        ctx.io.stderr(error instanceof Error ? error.message : String(error));
        throw new Exit(ExitCode.BadArgs);
      }
      return true;
    },
  );
}

// ---- member commands (etcdctl-v2.md §6) ----

function fail(ctx: Ctx, text: string): never {
  ctx.io.stderr(`${text}\n`);
  throw new Exit(ExitCode.BadArgs);
}

const msg = (e: unknown) => (e instanceof Error ? e.message : String(e));

async function memberList(ctx: Ctx): Promise<void> {
  if (ctx.args.length !== 0) fail(ctx, "No arguments accepted");
  const client = await syncedClient(ctx);
  const deadline = totalTimeout(ctx);
  const members = await client.listMembers(deadline).catch((e: unknown) => fail(ctx, msg(e)));
  const leader = await client
    .leader(deadline)
    .catch((e: unknown) => fail(ctx, `Failed to get leader:  ${msg(e)}`));
  let out = "";
  for (const m of members) {
    if (m.name === "") out += `${m.id}[unstarted]: peerURLs=${m.peerURLs.join(",")}\n`;
    else {
      out += `${m.id}: name=${m.name} peerURLs=${m.peerURLs.join(",")} clientURLs=${m.clientURLs.join(",")} isLeader=${m.id === leader.id}\n`;
    }
  }
  ctx.io.stdout(out);
}

async function memberAdd(ctx: Ctx): Promise<void> {
  if (ctx.args.length !== 2) fail(ctx, "Provide a name and a single member peerURL");
  const [name, url] = ctx.args as [string, string];
  const client = await syncedClient(ctx);
  const deadline = totalTimeout(ctx);
  const added = await client.addMember([url], deadline).catch((e: unknown) => fail(ctx, msg(e)));
  ctx.io.stdout(`Added member named ${name} with ID ${added.id} to cluster\n`);
  const members = await client.listMembers(deadline).catch((e: unknown) => fail(ctx, msg(e)));
  const conf: string[] = [];
  for (const m of members) {
    for (const u of m.peerURLs) conf.push(`${m.id === added.id ? name : m.name}=${u}`);
  }
  ctx.io.stdout(
    `\nETCD_NAME=${goQuote(name)}\nETCD_INITIAL_CLUSTER=${goQuote(conf.join(","))}\nETCD_INITIAL_CLUSTER_STATE="existing"\n`,
  );
}

async function memberRemove(ctx: Ctx): Promise<void> {
  if (ctx.args.length !== 1) fail(ctx, "Provide a single member ID");
  const id = ctx.args[0]!;
  const client = await syncedClient(ctx);
  const deadline = totalTimeout(ctx);
  const members = await client
    .listMembers(deadline)
    .catch((e: unknown) => fail(ctx, `Error while verifying ID against known members: ${msg(e)}`));
  let found = false;
  for (const m of members) {
    if (m.id === id) found = true;
    if (m.name === id) {
      ctx.io.stderr(
        `Found a member named ${m.name}; if this is correct, please use its ID, eg:\n\t${PROGRAM} member remove ${m.id}\n` +
          "For more details, read the documentation at https://github.com/etcd-io/etcd/blob/master/Documentation/runtime-configuration.md#remove-a-member\n\n",
      );
    }
  }
  if (!found) fail(ctx, `Couldn't find a member in the cluster with an ID of ${id}.`);
  try {
    await client.removeMember(id, deadline);
  } catch (e) {
    ctx.io.stderr(`Received an error trying to remove member ${id}: ${msg(e)}`);
    throw new Exit(ExitCode.BadArgs);
  }
  ctx.io.stdout(`Removed member ${id} from cluster\n`);
}

async function memberUpdate(ctx: Ctx): Promise<void> {
  if (ctx.args.length !== 2) {
    fail(
      ctx,
      "Provide an ID and a list of comma separated peerURL (0xabcd http://example.com,http://example1.com)",
    );
  }
  const [id, urls] = ctx.args as [string, string];
  const client = await syncedClient(ctx);
  await client
    .updateMember(id, urls.split(","), totalTimeout(ctx))
    .catch((e: unknown) => fail(ctx, msg(e)));
  ctx.io.stdout(`Updated member with ID ${id} in cluster\n`);
}

// ---- cluster-health ----

async function clusterHealth(ctx: Ctx): Promise<void> {
  const forever = bool(ctx.flags, "forever");
  const client = await newClient(ctx);
  if (bool(ctx.global, "debug"))
    ctx.io.stderr(`Cluster-Endpoints: ${client.endpoints.join(", ")}\n`);
  let members: Awaited<ReturnType<Client["listMembers"]>>;
  try {
    members = await client.listMembers(totalTimeout(ctx));
  } catch (error) {
    ctx.io.stdout("cluster may be unhealthy: failed to list members\n");
    return handleError(ctx, ExitCode.ServerError, error);
  }
  for (;;) {
    let healthy = 0;
    for (const m of members) {
      if (m.clientURLs.length === 0) {
        ctx.io.stdout(`member ${m.id} is unreachable: no available published client urls\n`);
        continue;
      }
      let checked = false;
      for (const url of m.clientURLs) {
        try {
          const h = await client.health({ endpoint: url, ...totalTimeout(ctx) });
          checked = true;
          if (h.health) {
            healthy++;
            ctx.io.stdout(`member ${m.id} is healthy: got healthy result from ${url}\n`);
          } else {
            ctx.io.stdout(`member ${m.id} is unhealthy: got unhealthy result from ${url}\n`);
          }
          break;
        } catch (error) {
          const detail =
            error instanceof ClusterUnavailableError
              ? (error.errors[0]?.message ?? "")
              : msg(error);
          ctx.io.stdout(
            `failed to check the health of member ${m.id} on ${url}: Get "${url}/health": ${detail}\n`,
          );
        }
      }
      if (!checked)
        ctx.io.stdout(
          `member ${m.id} is unreachable: [${m.clientURLs.join(" ")}] are all unreachable\n`,
        );
    }
    const all = healthy === members.length;
    ctx.io.stdout(
      all
        ? "cluster is healthy\n"
        : healthy === 0
          ? "cluster is unavailable\n"
          : "cluster is degraded\n",
    );
    if (!forever) {
      if (!all) throw new Exit(ExitCode.ClusterNotHealthy);
      return;
    }
    ctx.io.stdout("\nnext check after 10 second...\n\n");
    await ctx.io.sleep(10_000, ctx.io.interrupt);
    if (ctx.io.interrupt.aborted) return;
  }
}

// ---- the command table, in etcdctl's order ----

const memberCommand: Command = {
  name: "member",
  usage: "member add, remove and list subcommands",
  flags: [],
  subcommands: [
    {
      name: "list",
      usage: "enumerate existing cluster members",
      argsUsage: " ",
      flags: [],
      action: memberList,
    },
    {
      name: "add",
      usage: "add a new member to the etcd cluster",
      argsUsage: "<name> <peerURL>",
      flags: [],
      action: memberAdd,
    },
    {
      name: "remove",
      usage: "remove an existing member from the etcd cluster",
      argsUsage: "<memberID>",
      flags: [],
      action: memberRemove,
    },
    {
      name: "update",
      usage: "update an existing member in the etcd cluster",
      argsUsage: "<memberID> <peerURLs>",
      flags: [],
      action: memberUpdate,
    },
  ],
};

/** `backup`: see backup.ts. */
async function backupAction(ctx: Ctx): Promise<void> {
  const code = await runBackup(ctx.io, {
    dataDir: str(ctx.flags, "data-dir"),
    walDir: str(ctx.flags, "wal-dir"),
    backupDir: str(ctx.flags, "backup-dir"),
    backupWalDir: str(ctx.flags, "backup-wal-dir"),
    withV3: bool(ctx.flags, "with-v3"),
  });
  if (code !== ExitCode.Success) throw new Exit(code);
}

/** The commands. The auth commands (`user`, `role`, `auth`) come with the auth issue. */
export const COMMANDS: readonly Command[] = [
  {
    name: "backup",
    usage: "backup an etcd directory",
    argsUsage: " ",
    flags: [
      { names: ["data-dir"], kind: "string", usage: "Path to the etcd data dir" },
      { names: ["wal-dir"], kind: "string", usage: "Path to the etcd wal dir" },
      { names: ["backup-dir"], kind: "string", usage: "Path to the backup dir" },
      { names: ["backup-wal-dir"], kind: "string", usage: "Path to the backup wal dir" },
      { names: ["with-v3"], kind: "bool", usage: "Backup v3 backend data" },
    ],
    action: backupAction,
  },
  {
    name: "cluster-health",
    usage: "check the health of the etcd cluster",
    argsUsage: " ",
    flags: [
      {
        names: ["forever", "f"],
        kind: "bool",
        usage: "forever check the health every 10 second until CTRL+C",
      },
    ],
    action: clusterHealth,
  },
  {
    name: "mk",
    usage: "make a new key with a given value",
    argsUsage: "<key> <value>",
    flags: [
      { names: ["in-order"], kind: "bool", usage: "create in-order key under directory <key>" },
      ttlFlag,
    ],
    action: mkAction,
  },
  {
    name: "mkdir",
    usage: "make a new directory",
    argsUsage: "<key>",
    flags: [ttlFlag],
    action: dirAction("mkdir"),
  },
  {
    name: "rm",
    usage: "remove a key or a directory",
    argsUsage: "<key>",
    flags: [
      {
        names: ["dir"],
        kind: "bool",
        usage: "removes the key if it is an empty directory or a key-value pair",
      },
      {
        names: ["recursive", "r"],
        kind: "bool",
        usage: "removes the key and all child keys(if it is a directory)",
      },
      { names: ["with-value"], kind: "string", usage: "previous value" },
      { names: ["with-index"], kind: "int", defaultValue: "0", usage: "previous index" },
    ],
    action: rmAction,
  },
  {
    name: "rmdir",
    usage: "removes the key if it is an empty directory or a key-value pair",
    argsUsage: "<key>",
    flags: [],
    action: rmdirAction,
  },
  {
    name: "get",
    usage: "retrieve the value of a key",
    argsUsage: "<key>",
    flags: [
      { names: ["sort"], kind: "bool", usage: "returns result in sorted order" },
      { names: ["quorum", "q"], kind: "bool", usage: "require quorum for get request" },
    ],
    action: getAction,
  },
  {
    name: "ls",
    usage: "retrieve a directory",
    argsUsage: "[key]",
    flags: [
      { names: ["sort"], kind: "bool", usage: "returns result in sorted order" },
      {
        names: ["recursive", "r"],
        kind: "bool",
        usage: "returns all key names recursively for the given path",
      },
      { names: ["p"], kind: "bool", usage: "append slash (/) to directories" },
      { names: ["quorum", "q"], kind: "bool", usage: "require quorum for get request" },
    ],
    action: lsAction,
  },
  {
    name: "set",
    usage: "set the value of a key",
    argsUsage: "<key> <value>",
    description:
      "Set sets the value of a key.\n\n   When <value> begins with '-', <value> is interpreted as a flag.\n   Insert '--' for workaround:\n\n   $ set -- <key> <value>",
    flags: [
      ttlFlag,
      { names: ["swap-with-value"], kind: "string", usage: "previous value" },
      { names: ["swap-with-index"], kind: "int", defaultValue: "0", usage: "previous index" },
    ],
    action: setAction,
  },
  {
    name: "setdir",
    usage: "create a new directory or update an existing directory TTL",
    argsUsage: "<key>",
    flags: [ttlFlag],
    action: dirAction("setdir"),
  },
  {
    name: "update",
    usage: "update an existing key with a given value",
    argsUsage: "<key> <value>",
    flags: [ttlFlag],
    action: updateAction,
  },
  {
    name: "updatedir",
    usage: "update an existing directory",
    argsUsage: "<key> <value>",
    flags: [ttlFlag],
    action: dirAction("updatedir"),
  },
  {
    name: "watch",
    usage: "watch a key for changes",
    argsUsage: "<key>",
    flags: [
      { names: ["forever", "f"], kind: "bool", usage: "forever watch a key until CTRL+C" },
      {
        names: ["after-index"],
        kind: "int",
        defaultValue: "0",
        usage: "watch after the given index",
      },
      {
        names: ["recursive", "r"],
        kind: "bool",
        usage: "returns all values for key and child keys",
      },
    ],
    action: watchAction,
  },
  {
    name: "exec-watch",
    usage: "watch a key for changes and exec an executable",
    argsUsage: "<key> <command> [args...]",
    flags: [
      {
        names: ["after-index"],
        kind: "int",
        defaultValue: "0",
        usage: "watch after the given index",
      },
      { names: ["recursive", "r"], kind: "bool", usage: "watch all values for key and child keys" },
    ],
    action: execWatchAction,
  },
  memberCommand,
];

function findCommand(list: readonly Command[], name: string): Command | undefined {
  return list.find((c) => c.name === name || (c.aliases ?? []).includes(name));
}

/** urfave's `Command.Run`: reorder, parse the command's flags, `-h`, then the action. */
async function runCommand(
  io: CliIO,
  global: FlagValues,
  cmd: Command,
  helpName: string,
  args: readonly string[],
): Promise<void> {
  const defs = [...cmd.flags, HELP_FLAG];
  let parsed: { values: FlagValues; rest: string[] };
  try {
    parsed = parseGoFlags(defs, reorderArgs(defs, args));
  } catch (error) {
    if (error instanceof HelpRequested) {
      io.stdout(commandHelp(helpName, cmd));
      return;
    }
    const text = error instanceof Error ? error.message : String(error);
    io.stdout(`Incorrect Usage: ${text}\n\n${commandHelp(helpName, cmd)}`);
    io.stderr(`${text}\n`);
    throw new Exit(ExitCode.BadArgs);
  }
  if (parsed.values.get("help") === true) {
    io.stdout(commandHelp(helpName, cmd));
    return;
  }
  await cmd.action?.({ io, global, flags: parsed.values, args: parsed.rest });
}

/** A command with subcommands (`member`): urfave runs it as a sub-application. */
async function runSubApp(
  io: CliIO,
  global: FlagValues,
  cmd: Command,
  args: readonly string[],
): Promise<void> {
  const helpName = `${PROGRAM} ${cmd.name}`;
  let parsed: { values: FlagValues; rest: string[] };
  try {
    parsed = parseGoFlags([HELP_FLAG], args);
  } catch (error) {
    if (error instanceof HelpRequested) {
      io.stdout(subcommandHelp(helpName, cmd, HELP_FLAG));
      return;
    }
    const text = error instanceof Error ? error.message : String(error);
    io.stdout(`Incorrect Usage. ${text}\n\n${subcommandHelp(helpName, cmd, HELP_FLAG)}`);
    io.stderr(`${text}\n`);
    throw new Exit(ExitCode.BadArgs);
  }
  const [name, ...rest] = parsed.rest;
  if (parsed.values.get("help") === true || name === undefined) {
    io.stdout(subcommandHelp(helpName, cmd, HELP_FLAG));
    return;
  }
  const subs = cmd.subcommands ?? [];
  if (name === "help" || name === "h") {
    const topic = rest[0];
    if (topic === undefined) {
      io.stdout(subcommandHelp(helpName, cmd, HELP_FLAG));
      return;
    }
    const sub = findCommand(subs, topic);
    if (sub === undefined) return noHelpTopic(io, topic);
    io.stdout(commandHelp(`${helpName} ${sub.name}`, sub));
    return;
  }
  const sub = findCommand(subs, name);
  if (sub === undefined) return noHelpTopic(io, name);
  await runCommand(io, global, sub, `${helpName} ${sub.name}`, rest);
}

function noHelpTopic(io: CliIO, topic: string): never {
  io.stderr(`No help topic for '${topic}'\n`);
  throw new Exit(ExitCode.BadFeature);
}

function showAppHelp(io: CliIO): void {
  io.stdout(appHelp(PROGRAM, VERSION, COMMANDS, GLOBAL_FLAGS));
}

/** Help for one command by name (`help <cmd>`); unknown → exit 3. */
function showCommandHelp(io: CliIO, name: string): void {
  const cmd = findCommand(COMMANDS, name);
  if (cmd === undefined) noHelpTopic(io, name);
  io.stdout(commandHelp(`${PROGRAM} ${cmd.name}`, cmd));
}

/**
 * Runs cairnctl with `argv` (without the program name) and returns the exit
 * code. Never throws: unexpected failures print one line and exit 1.
 */
export async function run(argv: readonly string[], io: CliIO): Promise<number> {
  try {
    let global: FlagValues;
    let rest: string[];
    try {
      ({ values: global, rest } = parseGoFlags(GLOBAL_FLAGS, argv));
    } catch (error) {
      if (error instanceof FlagError) {
        io.stdout(`Incorrect Usage. ${error.message}\n\n`);
        showAppHelp(io);
        io.stderr(`${error.message}\n`);
        return ExitCode.BadArgs;
      }
      throw error;
    }
    if (global.get("help") === true) {
      showAppHelp(io);
      return ExitCode.Success;
    }
    if (global.get("version") === true) {
      io.stdout(`${PROGRAM} version: ${VERSION}\nAPI version: 2\n`);
      return ExitCode.Success;
    }
    const [name, ...args] = rest;
    if (name === undefined) {
      showAppHelp(io);
      return ExitCode.Success;
    }
    if (name === "help" || name === "h") {
      if (args[0] === undefined) showAppHelp(io);
      else showCommandHelp(io, args[0]);
      return ExitCode.Success;
    }
    const cmd = findCommand(COMMANDS, name);
    if (cmd === undefined) noHelpTopic(io, name);
    if (cmd.subcommands !== undefined) await runSubApp(io, global, cmd, args);
    else await runCommand(io, global, cmd, `${PROGRAM} ${cmd.name}`, args);
    return ExitCode.Success;
  } catch (error) {
    if (error instanceof Exit) return error.exitCode;
    io.stderr(`Error:  ${error instanceof Error ? error.message : String(error)}\n`);
    return ExitCode.BadArgs;
  }
}
