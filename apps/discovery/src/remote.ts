import {
  abortSignalOf,
  type KeyResult,
  type ReadRequest,
  type WatchRequest,
  type WatchSignal,
  type WatchSink,
  type WatchStart,
} from "@cairn/kv-api";
import type { V2ErrorData, V2Event, V2Node, WriteRequest } from "@cairn/v2store";
import type { DiscoveryBackend } from "./backend.js";

/** Where a {@link RemoteBackend} keeps tokens by default: the self-hosted discovery convention (bootstrap.md §3.6). */
export const DEFAULT_REMOTE_PREFIX = "/_etcd/registry";

/** How {@link RemoteBackend} reaches the cluster. */
export interface RemoteBackendOptions {
  /** Client URLs of the cluster's members (Cairn or etcd with v2 enabled); tried in order. */
  readonly endpoints: readonly string[];
  /** Bound on a non-watch request (default 5 s, as etcd's client). */
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
}

/** No endpoint of the external cluster answered. */
export class RemoteUnavailableError extends Error {
  override readonly name = "RemoteUnavailableError";
  readonly code = "REMOTE_UNAVAILABLE";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

interface WireNode {
  key?: string;
  value?: string;
  dir?: boolean;
  expiration?: string;
  ttl?: number;
  nodes?: WireNode[];
  modifiedIndex?: number;
  createdIndex?: number;
}

interface WireBody {
  action?: V2Event["action"];
  node?: WireNode;
  prevNode?: WireNode;
  errorCode?: number;
  message?: string;
  cause?: string;
  index?: number;
}

function toNode(n: WireNode): V2Node {
  const out: V2Node = {
    key: n.key ?? "/",
    modifiedIndex: n.modifiedIndex ?? 0,
    createdIndex: n.createdIndex ?? 0,
  };
  if (n.value !== undefined) out.value = n.value;
  if (n.dir === true) out.dir = true;
  // Discovery keys carry no TTL (the service refuses one); a foreign key
  // with an expiration keeps it to the millisecond.
  if (n.expiration !== undefined) out.expiration = Date.parse(n.expiration) * 1000;
  if (n.ttl !== undefined) out.ttl = n.ttl;
  if (n.nodes !== undefined) out.nodes = n.nodes.map(toNode);
  return out;
}

function headerInt(res: Response, name: string): number {
  const v = Number(res.headers.get(name) ?? "0");
  return Number.isFinite(v) ? v : 0;
}

/**
 * The discovery service's store in an external cluster reached over etcd's
 * v2 keys API (`--etcd`): a Cairn cluster, or etcd with `--enable-v2`. Keys
 * are the cluster's own (wrap it in {@link withKeyPrefix} to keep tokens in
 * a directory of their own). Web-standard `fetch` only.
 */
export class RemoteBackend implements DiscoveryBackend {
  readonly #endpoints: string[];
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;

  constructor(options: RemoteBackendOptions) {
    if (options.endpoints.length === 0) throw new RangeError("RemoteBackend needs an endpoint");
    this.#endpoints = options.endpoints.map((e) => e.replace(/\/+$/, ""));
    this.#timeoutMs = options.timeoutMs ?? 5_000;
    this.#fetch = options.fetch ?? fetch;
  }

  /** Sends to the first endpoint that answers at all (any HTTP status). */
  async #send(path: string, init: RequestInit, watch = false): Promise<Response> {
    let last: unknown;
    for (const endpoint of this.#endpoints) {
      const signals = [init.signal, watch ? undefined : AbortSignal.timeout(this.#timeoutMs)];
      const live = signals.filter((s): s is AbortSignal => s != null);
      try {
        return await this.#fetch(`${endpoint}${path}`, {
          ...init,
          ...(live.length > 0 ? { signal: AbortSignal.any(live) } : {}),
        });
      } catch (error) {
        if (init.signal?.aborted) throw error;
        last = error;
      }
    }
    throw new RemoteUnavailableError(
      `no endpoint of the cluster answered (${this.#endpoints.join(",")})`,
      { cause: last },
    );
  }

  async #result(res: Response): Promise<KeyResult> {
    const body = (await res.json()) as WireBody;
    const head = {
      raftIndex: headerInt(res, "X-Raft-Index"),
      raftTerm: headerInt(res, "X-Raft-Term"),
    };
    if (body.errorCode !== undefined) {
      const error: V2ErrorData = {
        errorCode: body.errorCode,
        message: body.message ?? "",
        cause: body.cause ?? "",
        index: body.index ?? 0,
      };
      return { error, ...head };
    }
    if (body.action === undefined || body.node === undefined) {
      throw new RemoteUnavailableError(`unexpected answer from the cluster (HTTP ${res.status})`);
    }
    const event: V2Event = {
      action: body.action,
      node: toNode(body.node),
      etcdIndex: headerInt(res, "X-Etcd-Index"),
    };
    if (body.prevNode !== undefined) event.prevNode = toNode(body.prevNode);
    return { event, ...head };
  }

  async propose(request: WriteRequest): Promise<KeyResult> {
    const form = new URLSearchParams();
    if (request.value !== undefined) form.set("value", request.value);
    if (request.prevExist !== undefined) form.set("prevExist", String(request.prevExist));
    if (request.recursive === true) form.set("recursive", "true");
    if (request.dir === true) form.set("dir", "true");
    const query = request.method === "DELETE" ? `?${form}` : "";
    const res = await this.#send(`/v2/keys${encodeKey(request.key)}${query}`, {
      method: request.method,
      ...(request.method === "DELETE"
        ? {}
        : {
            headers: { "Content-Type": "application/x-www-form-urlencoded" },
            body: form.toString(),
          }),
    });
    return this.#result(res);
  }

  async read(request: ReadRequest, options: { linearizable: boolean }): Promise<KeyResult> {
    const q = `recursive=${request.recursive}&sorted=${request.sorted}&quorum=${options.linearizable}`;
    return this.#result(await this.#send(`/v2/keys${encodeKey(request.key)}?${q}`, {}));
  }

  async watch(request: WatchRequest, sink: WatchSink, signal: WatchSignal): Promise<WatchStart> {
    const q = `wait=true&recursive=${request.recursive}${request.sinceIndex > 0 ? `&waitIndex=${request.sinceIndex}` : ""}`;
    const res = await this.#send(
      `/v2/keys${encodeKey(request.key)}?${q}`,
      { signal: abortSignalOf(signal) },
      true,
    );
    const head = {
      etcdIndex: headerInt(res, "X-Etcd-Index"),
      raftIndex: headerInt(res, "X-Raft-Index"),
      raftTerm: headerInt(res, "X-Raft-Term"),
    };
    if (!res.ok) {
      const r = await this.#result(res);
      return {
        error: r.error ?? {
          errorCode: 300,
          message: "Raft Internal Error",
          cause: `HTTP ${res.status}`,
          index: 0,
        },
        ...head,
      };
    }
    // The event arrives when the cluster has one; the caller has its start
    // answer (and sends its headers) meanwhile.
    void this.#result(res).then(
      (r) => {
        if (r.event !== undefined) sink.event(r.event);
        else sink.end();
      },
      () => sink.end(),
    );
    return head;
  }

  async health(): Promise<boolean> {
    try {
      const res = await this.#send("/health", {});
      return res.ok && ((await res.json()) as { health?: string }).health === "true";
    } catch {
      return false;
    }
  }
}

function encodeKey(key: string): string {
  return key.split("/").map(encodeURIComponent).join("/");
}

/**
 * A backend whose keys live under `prefix` of `inner`: requests get the
 * prefix, answers lose it, so the service and its clients see the same
 * `/<token>/…` keys whatever the store. A missing prefix directory reads as
 * an empty root.
 */
export function withKeyPrefix(inner: DiscoveryBackend, prefix: string): DiscoveryBackend {
  const p = `/${prefix.replace(/^\/+|\/+$/g, "")}`;
  const add = (key: string) => (key === "/" ? p : `${p}${key}`);
  const strip = (key: string) =>
    key === p ? "/" : key.startsWith(`${p}/`) ? key.slice(p.length) : key;
  const node = (n: V2Node): V2Node => {
    const out: V2Node = { ...n, key: strip(n.key) };
    if (n.nodes !== undefined) out.nodes = n.nodes.map(node);
    return out;
  };
  const event = (e: V2Event): V2Event => {
    const out: V2Event = { ...e, node: node(e.node) };
    if (e.prevNode !== undefined) out.prevNode = node(e.prevNode);
    return out;
  };
  const error = (e: V2ErrorData, key: string): V2ErrorData => {
    if (e.cause === p || e.cause.startsWith(`${p}/`)) return { ...e, cause: strip(e.cause) };
    // The prefix directory (or an ancestor) itself is missing: name the
    // first missing key the client can see.
    if (e.errorCode === 100 && p.startsWith(e.cause)) {
      return { ...e, cause: `/${key.split("/")[1] ?? ""}` };
    }
    return e;
  };
  const result = (r: KeyResult, key: string): KeyResult => {
    const out: KeyResult = { raftIndex: r.raftIndex, raftTerm: r.raftTerm };
    if (r.event !== undefined) out.event = event(r.event);
    if (r.error !== undefined) out.error = error(r.error, key);
    return out;
  };
  return {
    async propose(request) {
      return result(await inner.propose({ ...request, key: add(request.key) }), request.key);
    },
    async read(request, options) {
      const r = await inner.read({ ...request, key: add(request.key) }, options);
      if (request.key === "/" && r.error?.errorCode === 100) {
        // No token was ever created: an empty root, as a fresh store has.
        return {
          event: {
            action: "get",
            node: { key: "/", dir: true, modifiedIndex: 0, createdIndex: 0 },
            etcdIndex: r.error.index,
          },
          raftIndex: r.raftIndex,
          raftTerm: r.raftTerm,
        };
      }
      return result(r, request.key);
    },
    async watch(request, sink, signal) {
      const start = await inner.watch(
        { ...request, key: add(request.key) },
        { event: (e) => sink.event(event(e)), end: () => sink.end() },
        signal,
      );
      return start.error === undefined
        ? start
        : { ...start, error: error(start.error, request.key) };
    },
    health: () => inner.health(),
  };
}
