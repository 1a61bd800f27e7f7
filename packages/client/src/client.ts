import { apiUrl, encodeValues, keysUrl } from "./encoding.js";
import {
  ClientAbortedError,
  ClientTimeoutError,
  ClusterUnavailableError,
  EndpointError,
  type EtcdErrorBody,
  etcdErrorFromBody,
  HttpStatusError,
  InvalidArgumentError,
  InvalidResponseError,
  NoEndpointsError,
} from "./errors.js";
import { describeFetchError } from "./neterror.js";
import type {
  KeysResponse,
  LeaderStats,
  Member,
  RequestInfo,
  SelfStats,
  StoreStats,
  VersionInfo,
} from "./types.js";
import { Watcher, type WatchOptions } from "./watch.js";

/** The `fetch` the client calls; any Web-standard implementation fits. */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** How to reach the cluster. */
export interface ClientOptions {
  /** Base URLs of one or more members (`http://127.0.0.1:2379`), or a comma-separated string. */
  readonly endpoints: string | readonly string[];
  /**
   * Per attempt on one endpoint: how long to wait for the response headers
   * before trying the next endpoint (etcdctl `--timeout`). Default 5000 ms;
   * 0 waits forever. Watches get their headers at once, so this bounds them too
   * without cutting long polls.
   */
  readonly requestTimeoutMs?: number;
  /** Default total budget of one call over all endpoints (etcdctl `--total-timeout`); none by default. */
  readonly timeoutMs?: number;
  /** HTTP basic credentials for servers with v2 auth enabled. */
  readonly username?: string;
  readonly password?: string;
  /** A fetch implementation (e.g. one carrying TLS client certificates); defaults to the global one. */
  readonly fetch?: FetchLike;
  /** Called just before every HTTP attempt (etcdctl `--debug` prints these as curl commands). */
  readonly onRequest?: (request: RequestInfo) => void;
}

/** Per-call options. */
export interface CallOptions {
  /** Abort the call. */
  readonly signal?: AbortSignal;
  /** Total budget of this call in ms, over all endpoints (overrides the client's `timeoutMs`). */
  readonly timeoutMs?: number;
}

/** Options of {@link Client.get}. */
export interface GetOptions extends CallOptions {
  /** Return the whole subtree of a directory. */
  readonly recursive?: boolean;
  /** Sort directory listings by key. */
  readonly sorted?: boolean;
  /** Linearizable read through the leader (`quorum=true`). */
  readonly quorum?: boolean;
}

/** Options of {@link Client.set} and the other writes built on it. */
export interface SetOptions extends CallOptions {
  /** Time to live in seconds; the key expires after it unless refreshed. */
  readonly ttl?: number;
  /** Write only if the current value equals this (compare-and-swap). */
  readonly prevValue?: string;
  /** Write only if the current modifiedIndex equals this (compare-and-swap). */
  readonly prevIndex?: number;
  /** `false`: create only (fails with 105 if it exists); `true`: update only (100 if missing). */
  readonly prevExist?: boolean;
  /** Write a directory instead of a file (no value is sent). */
  readonly dir?: boolean;
  /** Reset the TTL without changing the value or notifying watchers (needs `ttl`). */
  readonly refresh?: boolean;
}

/** Options of {@link Client.delete}. */
export interface DeleteOptions extends CallOptions {
  /** Delete a directory and everything below it. */
  readonly recursive?: boolean;
  /** Allow deleting an empty directory. */
  readonly dir?: boolean;
  /** Delete only if the current value equals this (compare-and-delete). */
  readonly prevValue?: string;
  /** Delete only if the current modifiedIndex equals this (compare-and-delete). */
  readonly prevIndex?: number;
}

/** Options of directory writes. */
export interface DirOptions extends CallOptions {
  readonly ttl?: number;
}

/** One HTTP request, retried over the endpoints by {@link Client.request}. */
export interface ClientRequest {
  readonly method: "GET" | "PUT" | "POST" | "DELETE";
  /** Builds the URL for one endpoint. */
  readonly url: (endpoint: string) => string;
  readonly body?: string;
  readonly contentType?: string;
  /**
   * Not safe to send twice (a create, an in-order POST): after a failure that
   * may have reached the server, the client does not try another endpoint.
   */
  readonly oneShot?: boolean;
  /** Treat 5xx answers as results instead of endpoint failures (e.g. `/health` answers 503). */
  readonly acceptServerErrors?: boolean;
  /** Send to this endpoint only, instead of the client's list. */
  readonly endpoint?: string;
}

/** A raw answer: the endpoint that gave it, status, headers and the whole body. */
export interface RawResponse {
  readonly endpoint: string;
  readonly status: number;
  readonly headers: Headers;
  readonly body: string;
}

const FORM = "application/x-www-form-urlencoded";

/** Parses and checks an endpoint list; throws {@link InvalidArgumentError}. */
export function parseEndpoints(endpoints: string | readonly string[]): string[] {
  const list = typeof endpoints === "string" ? endpoints.split(",") : [...endpoints];
  const out: string[] = [];
  for (const raw of list) {
    const ep = raw.trim();
    if (ep === "") continue;
    let u: URL;
    try {
      u = new URL(ep);
    } catch (cause) {
      throw new InvalidArgumentError(`invalid endpoint ${JSON.stringify(ep)}`, { cause });
    }
    if (u.protocol !== "http:" && u.protocol !== "https:") {
      throw new InvalidArgumentError(
        `endpoint ${JSON.stringify(ep)}: scheme must be http or https`,
      );
    }
    out.push(ep.replace(/\/+$/, ""));
  }
  if (out.length === 0) throw new InvalidArgumentError("no endpoints given");
  return out;
}

function base64(s: string): string {
  let bin = "";
  for (const b of new TextEncoder().encode(s)) bin += String.fromCharCode(b);
  return btoa(bin);
}

function num(v: string | null): number | undefined {
  if (v === null || v === "") return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

/**
 * Thrown internally when a keys request answered 200 with an empty body: the
 * server went away while a watch was pending (etcd-v2-api.md §7). The Go
 * client simply asks again; so does the {@link Watcher}.
 */
export class EmptyBodyError extends Error {
  override readonly name = "EmptyBodyError";
  readonly code = "EMPTY_BODY";
  constructor() {
    super("client: response body is empty");
  }
}

/** Decodes a keys answer into a {@link KeysResponse}, or throws the v2 error. */
export function decodeKeysResponse(raw: RawResponse): KeysResponse {
  if (raw.status === 200 || raw.status === 201) {
    if (raw.body.trim() === "") throw new EmptyBodyError();
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw.body);
    } catch (cause) {
      throw new InvalidResponseError(
        "client: response is invalid json. The endpoint is probably not valid etcd cluster endpoint.",
        cause,
      );
    }
    const ev = parsed as { action?: unknown; node?: unknown; prevNode?: unknown };
    if (typeof ev.action !== "string" || typeof ev.node !== "object" || ev.node === null) {
      throw new InvalidResponseError("client: response is not a v2 keys event");
    }
    const node = ev.node as { key?: string };
    const response: {
      -readonly [K in keyof KeysResponse]: KeysResponse[K];
    } = {
      action: ev.action as KeysResponse["action"],
      // The root directory has no key on the wire; the Go client leaves it empty.
      node: { ...(ev.node as KeysResponse["node"]), key: node.key ?? "" },
      index: num(raw.headers.get("x-etcd-index")) ?? 0,
    };
    if (typeof ev.prevNode === "object" && ev.prevNode !== null) {
      response.prevNode = ev.prevNode as KeysResponse["node"];
    }
    const raftIndex = num(raw.headers.get("x-raft-index"));
    if (raftIndex !== undefined) response.raftIndex = raftIndex;
    const raftTerm = num(raw.headers.get("x-raft-term"));
    if (raftTerm !== undefined) response.raftTerm = raftTerm;
    const clusterId = raw.headers.get("x-etcd-cluster-id");
    if (clusterId !== null) response.clusterId = clusterId;
    return response;
  }
  let body: unknown;
  try {
    body = JSON.parse(raw.body);
  } catch (cause) {
    throw new InvalidResponseError(
      "client: response is invalid json. The endpoint is probably not valid etcd cluster endpoint.",
      cause,
    );
  }
  const e = body as Partial<EtcdErrorBody>;
  if (typeof e.errorCode !== "number") {
    throw new HttpStatusError(raw.status, raw.body, messageOf(raw));
  }
  throw etcdErrorFromBody(
    {
      errorCode: e.errorCode,
      message: typeof e.message === "string" ? e.message : "",
      ...(typeof e.cause === "string" ? { cause: e.cause } : {}),
      index: typeof e.index === "number" ? e.index : 0,
    },
    raw.status,
  );
}

/** The `{"message": …}` text of a members/stats error, or the raw body. */
function messageOf(raw: RawResponse): string {
  try {
    const m = (JSON.parse(raw.body) as { message?: unknown }).message;
    if (typeof m === "string") return m;
  } catch {
    // not JSON: fall through to the raw text
  }
  const text = raw.body.trim();
  return text === "" ? `unexpected status ${raw.status}` : text;
}

function parseMember(m: unknown): Member {
  const o = m as Partial<Record<keyof Member, unknown>>;
  if (typeof o.id !== "string") throw new InvalidResponseError("client: member without id");
  return {
    id: o.id,
    name: typeof o.name === "string" ? o.name : "",
    peerURLs: Array.isArray(o.peerURLs) ? o.peerURLs.map(String) : [],
    clientURLs: Array.isArray(o.clientURLs) ? o.clientURLs.map(String) : [],
  };
}

function parseJson<T>(raw: RawResponse): T {
  try {
    return JSON.parse(raw.body) as T;
  } catch (cause) {
    throw new InvalidResponseError(`client: invalid JSON from ${raw.endpoint}`, cause);
  }
}

/** Checks a peer URL the way etcd's `types.NewURLs` does before sending it. */
function checkPeerURL(u: string): void {
  // Go's url.Parse: without a scheme, a colon in the first segment is an error.
  if (!/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(u) && (u.split("/")[0] ?? "").includes(":")) {
    throw new InvalidArgumentError(
      `parse ${JSON.stringify(u)}: first path segment in URL cannot contain colon`,
    );
  }
  let url: URL;
  try {
    url = new URL(u);
  } catch (cause) {
    throw new InvalidArgumentError(`parse ${JSON.stringify(u)}: invalid URL`, { cause });
  }
  if (!["http:", "https:", "unix:", "unixs:"].includes(url.protocol)) {
    throw new InvalidArgumentError(`URL scheme must be http, https, unix, or unixs: ${u}`);
  }
  if (url.port === "" && !/:\d+$/.test(url.host)) {
    throw new InvalidArgumentError(`URL address does not have the form "host:port": ${u}`);
  }
  if (url.pathname !== "/" && url.pathname !== "") {
    throw new InvalidArgumentError(`URL must not contain a path: ${u}`);
  }
}

/**
 * A client for the etcd v2 HTTP API. Requests go to a pinned endpoint and fail
 * over to the next one when it is unreachable or answers 5xx; {@link sync}
 * replaces the endpoint list with the members' advertised client URLs.
 */
export class Client {
  #endpoints: string[];
  #pinned = 0;
  readonly #requestTimeoutMs: number;
  readonly #timeoutMs: number | undefined;
  readonly #fetch: FetchLike;
  readonly #auth: string | undefined;
  readonly #onRequest: ((request: RequestInfo) => void) | undefined;

  constructor(options: ClientOptions) {
    this.#endpoints = parseEndpoints(options.endpoints);
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 5_000;
    this.#timeoutMs = options.timeoutMs;
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.#auth =
      options.username !== undefined
        ? `Basic ${base64(`${options.username}:${options.password ?? ""}`)}`
        : undefined;
    this.#onRequest = options.onRequest;
  }

  /** The endpoints in use, the pinned one first among equals (order as configured or synced). */
  get endpoints(): readonly string[] {
    return [...this.#endpoints];
  }

  /**
   * Member sync: asks `GET /v2/members` and from then on talks to the
   * members' advertised client URLs (etcdctl does this before every command
   * unless `--no-sync`). Keeps the pinned endpoint when it is still listed.
   */
  async sync(options: CallOptions = {}): Promise<readonly string[]> {
    const members = await this.listMembers(options);
    const urls: string[] = [];
    for (const m of members) {
      for (const u of m.clientURLs) if (!urls.includes(u)) urls.push(u);
    }
    if (urls.length === 0) throw new NoEndpointsError();
    const pinned = this.#endpoints[this.#pinned];
    this.#endpoints = urls;
    const keep = pinned === undefined ? -1 : urls.indexOf(pinned);
    this.#pinned = Math.max(keep, 0);
    return this.endpoints;
  }

  /**
   * Sends one request, trying each endpoint once starting at the pinned one.
   * Connection failures, header timeouts and 5xx answers move on to the next
   * endpoint; when all fail the result is a {@link ClusterUnavailableError}.
   */
  async request(req: ClientRequest, options: CallOptions = {}): Promise<RawResponse> {
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
    const total = new AbortController();
    const timers: ReturnType<typeof setTimeout>[] = [];
    let timedOut = false;
    if (timeoutMs !== undefined && timeoutMs > 0) {
      timers.push(
        setTimeout(() => {
          timedOut = true;
          total.abort(new ClientTimeoutError());
        }, timeoutMs),
      );
    }
    const onAbort = () => total.abort(new ClientAbortedError(options.signal?.reason));
    if (options.signal?.aborted) onAbort();
    options.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const errors: EndpointError[] = [];
      const eps = req.endpoint !== undefined ? [req.endpoint] : this.#endpoints;
      const start = req.endpoint !== undefined ? 0 : this.#pinned;
      for (let i = 0; i < eps.length; i++) {
        const k = (start + i) % eps.length;
        const ep = eps[k]!;
        if (total.signal.aborted) break;
        const result = await this.#attempt(ep, req, total.signal);
        if (result instanceof EndpointError) {
          if (total.signal.aborted) break;
          errors.push(result);
          if (req.oneShot && !/connection refused/.test(result.message)) {
            if (req.endpoint === undefined) this.#pinned = (k + 1) % eps.length;
            throw new ClusterUnavailableError(errors);
          }
          continue;
        }
        if (req.endpoint === undefined && k !== this.#pinned) this.#pinned = k;
        return result;
      }
      if (total.signal.aborted) {
        throw timedOut ? new ClientTimeoutError() : new ClientAbortedError(options.signal?.reason);
      }
      throw new ClusterUnavailableError(errors);
    } finally {
      for (const t of timers) clearTimeout(t);
      options.signal?.removeEventListener("abort", onAbort);
    }
  }

  async #attempt(
    ep: string,
    req: ClientRequest,
    total: AbortSignal,
  ): Promise<RawResponse | EndpointError> {
    const url = req.url(ep);
    this.#onRequest?.({
      method: req.method,
      url,
      ...(req.body !== undefined ? { body: req.body } : {}),
    });
    const attempt = new AbortController();
    const forward = () => attempt.abort(total.reason);
    total.addEventListener("abort", forward, { once: true });
    let headerTimedOut = false;
    const headerTimer =
      this.#requestTimeoutMs > 0
        ? setTimeout(() => {
            headerTimedOut = true;
            attempt.abort(new ClientTimeoutError());
          }, this.#requestTimeoutMs)
        : undefined;
    const headers: Record<string, string> = {};
    if (req.contentType !== undefined) headers["content-type"] = req.contentType;
    if (this.#auth !== undefined) headers.authorization = this.#auth;
    let answered = false;
    try {
      let res: Response;
      try {
        res = await this.#fetch(url, {
          method: req.method,
          headers,
          ...(req.body !== undefined ? { body: req.body } : {}),
          signal: attempt.signal,
          redirect: "follow",
        });
      } finally {
        clearTimeout(headerTimer);
      }
      answered = true;
      const body = await res.text();
      if (res.status >= 500 && !req.acceptServerErrors) {
        const text =
          res.status === 500 || res.status === 503
            ? `client: etcd member ${ep} has no leader`
            : `client: etcd member ${ep} returns server error [${res.statusText}]`;
        return new EndpointError(ep, text, false);
      }
      return { endpoint: ep, status: res.status, headers: res.headers, body };
    } catch (error) {
      if (headerTimedOut) {
        return new EndpointError(
          ep,
          "net/http: request canceled (Client.Timeout exceeded while awaiting headers)",
          true,
          error,
        );
      }
      const f = describeFetchError(url, error);
      return new EndpointError(ep, f.message, f.connection, error, answered);
    } finally {
      total.removeEventListener("abort", forward);
    }
  }

  async #keys(req: ClientRequest, options: CallOptions): Promise<KeysResponse> {
    return decodeKeysResponse(await this.request(req, options));
  }

  /** Reads a key or lists a directory. Always sends `quorum`, `recursive` and `sorted` like etcdctl. */
  get(key: string, options: GetOptions = {}): Promise<KeysResponse> {
    const query = {
      quorum: String(options.quorum ?? false),
      recursive: String(options.recursive ?? false),
      sorted: String(options.sorted ?? false),
    };
    return this.#keys({ method: "GET", url: (ep) => keysUrl(ep, key, query) }, options);
  }

  /** Writes a key (or, with `dir`, a directory); conditions and TTL per {@link SetOptions}. */
  set(key: string, value: string, options: SetOptions = {}): Promise<KeysResponse> {
    const query: Record<string, string> = {};
    const form: Record<string, string> = {};
    if (options.dir) {
      query.dir = "true";
    } else {
      if (options.prevValue !== undefined && options.prevValue !== "")
        query.prevValue = options.prevValue;
      if (!options.refresh) form.value = value;
    }
    if (options.prevIndex !== undefined && options.prevIndex !== 0)
      query.prevIndex = String(options.prevIndex);
    if (options.prevExist !== undefined) query.prevExist = String(options.prevExist);
    if (options.ttl !== undefined && options.ttl > 0) form.ttl = String(Math.floor(options.ttl));
    if (options.refresh) form.refresh = "true";
    return this.#keys(
      {
        method: "PUT",
        url: (ep) => keysUrl(ep, key, query),
        body: encodeValues(form),
        contentType: FORM,
        // A create that reached the server must not be sent again elsewhere: it would fail with 105.
        oneShot: options.prevExist === false,
      },
      options,
    );
  }

  /** Creates a key that must not exist yet (`prevExist=false`; error 105 otherwise). */
  create(
    key: string,
    value: string,
    options: Omit<SetOptions, "prevExist"> = {},
  ): Promise<KeysResponse> {
    return this.set(key, value, { ...options, prevExist: false });
  }

  /** Updates a key that must exist (`prevExist=true`; error 100 otherwise). */
  update(
    key: string,
    value: string,
    options: Omit<SetOptions, "prevExist"> = {},
  ): Promise<KeysResponse> {
    return this.set(key, value, { ...options, prevExist: true });
  }

  /** Resets a key's TTL without changing its value or waking watchers. */
  refresh(
    key: string,
    ttl: number,
    options: CallOptions & { dir?: boolean } = {},
  ): Promise<KeysResponse> {
    return this.set(key, "", { ...options, ttl, refresh: true, prevExist: true });
  }

  /** Creates a key with a unique, increasing name under `dir` (POST): an in-order queue. */
  createInOrder(dir: string, value: string, options: DirOptions = {}): Promise<KeysResponse> {
    const form: Record<string, string> = { value };
    if (options.ttl !== undefined && options.ttl > 0) form.ttl = String(Math.floor(options.ttl));
    return this.#keys(
      {
        method: "POST",
        url: (ep) => keysUrl(ep, dir, {}),
        body: encodeValues(form),
        contentType: FORM,
        oneShot: true,
      },
      options,
    );
  }

  /** Deletes a key or directory; conditions per {@link DeleteOptions}. */
  delete(key: string, options: DeleteOptions = {}): Promise<KeysResponse> {
    const query: Record<string, string> = {};
    if (options.prevValue !== undefined && options.prevValue !== "")
      query.prevValue = options.prevValue;
    if (options.prevIndex !== undefined && options.prevIndex !== 0)
      query.prevIndex = String(options.prevIndex);
    if (options.dir) query.dir = "true";
    if (options.recursive) query.recursive = "true";
    return this.#keys(
      { method: "DELETE", url: (ep) => keysUrl(ep, key, query), contentType: FORM },
      options,
    );
  }

  /** Creates a directory that must not exist yet. */
  mkdir(key: string, options: DirOptions = {}): Promise<KeysResponse> {
    return this.set(key, "", { ...options, dir: true, prevExist: false });
  }

  /** Creates a directory, or sets one where a missing key is (`dir=true`). */
  setDir(key: string, options: DirOptions = {}): Promise<KeysResponse> {
    return this.set(key, "", { ...options, dir: true });
  }

  /** Updates an existing directory (its TTL; absent `ttl` clears it). */
  updateDir(key: string, options: DirOptions = {}): Promise<KeysResponse> {
    return this.set(key, "", { ...options, dir: true, prevExist: true });
  }

  /**
   * Watches a key (or subtree with `recursive`) and yields every change in
   * index order; see {@link Watcher} for resume and the 401 case.
   */
  watch(key: string, options: WatchOptions = {}): Watcher {
    return new Watcher(this, key, options);
  }

  /** `GET /v2/members`. */
  async listMembers(options: CallOptions = {}): Promise<Member[]> {
    const raw = await this.request(
      { method: "GET", url: (ep) => apiUrl(ep, "/v2/members") },
      options,
    );
    if (raw.status !== 200) throw new HttpStatusError(raw.status, raw.body, messageOf(raw));
    const body = parseJson<{ members?: unknown }>(raw);
    return Array.isArray(body.members) ? body.members.map(parseMember) : [];
  }

  /** `GET /v2/members/leader`. */
  async leader(options: CallOptions = {}): Promise<Member> {
    const raw = await this.request(
      { method: "GET", url: (ep) => apiUrl(ep, "/v2/members/leader") },
      options,
    );
    if (raw.status !== 200) throw new HttpStatusError(raw.status, raw.body, messageOf(raw));
    return parseMember(parseJson<unknown>(raw));
  }

  /** `POST /v2/members`: adds a member by its peer URLs; returns it (without name until it starts). */
  async addMember(peerURLs: readonly string[], options: CallOptions = {}): Promise<Member> {
    for (const u of peerURLs) checkPeerURL(u);
    const raw = await this.request(
      {
        method: "POST",
        url: (ep) => apiUrl(ep, "/v2/members"),
        body: JSON.stringify({ peerURLs }),
        contentType: "application/json",
        oneShot: true,
      },
      options,
    );
    if (raw.status !== 201) throw new HttpStatusError(raw.status, raw.body, messageOf(raw));
    return parseMember(parseJson<unknown>(raw));
  }

  /** `DELETE /v2/members/<id>` (id in hex). */
  async removeMember(id: string, options: CallOptions = {}): Promise<void> {
    const raw = await this.request(
      { method: "DELETE", url: (ep) => apiUrl(ep, `/v2/members/${encodeURIComponent(id)}`) },
      options,
    );
    if (raw.status !== 204) throw new HttpStatusError(raw.status, raw.body, messageOf(raw));
  }

  /** `PUT /v2/members/<id>`: replaces a member's peer URLs. */
  async updateMember(
    id: string,
    peerURLs: readonly string[],
    options: CallOptions = {},
  ): Promise<void> {
    for (const u of peerURLs) checkPeerURL(u);
    const raw = await this.request(
      {
        method: "PUT",
        url: (ep) => apiUrl(ep, `/v2/members/${encodeURIComponent(id)}`),
        body: JSON.stringify({ peerURLs }),
        contentType: "application/json",
      },
      options,
    );
    if (raw.status !== 204) throw new HttpStatusError(raw.status, raw.body, messageOf(raw));
  }

  async #getJson<T>(path: string, options: CallOptions): Promise<T> {
    const raw = await this.request({ method: "GET", url: (ep) => apiUrl(ep, path) }, options);
    if (raw.status !== 200) throw new HttpStatusError(raw.status, raw.body, messageOf(raw));
    return parseJson<T>(raw);
  }

  /** `GET /v2/stats/self` of the pinned member. */
  selfStats(options: CallOptions = {}): Promise<SelfStats> {
    return this.#getJson("/v2/stats/self", options);
  }

  /** `GET /v2/stats/leader` (only the leader answers; others give 403). */
  leaderStats(options: CallOptions = {}): Promise<LeaderStats> {
    return this.#getJson("/v2/stats/leader", options);
  }

  /** `GET /v2/stats/store`. */
  storeStats(options: CallOptions = {}): Promise<StoreStats> {
    return this.#getJson("/v2/stats/store", options);
  }

  /** `GET /version`. */
  version(options: CallOptions = {}): Promise<VersionInfo> {
    return this.#getJson("/version", options);
  }

  /** `GET /v2/machines`: the client URLs of all members. */
  async machines(options: CallOptions = {}): Promise<string[]> {
    const raw = await this.request(
      { method: "GET", url: (ep) => apiUrl(ep, "/v2/machines") },
      options,
    );
    if (raw.status !== 200) throw new HttpStatusError(raw.status, raw.body, messageOf(raw));
    return raw.body
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "");
  }

  /**
   * `GET /health` of one member (default: the pinned endpoint, with fail-over).
   * Accepts `{"health":"true"}` and `{"health":true}`, as etcdctl does.
   */
  async health(
    options: CallOptions & { endpoint?: string } = {},
  ): Promise<{ health: boolean; status: number }> {
    const raw = await this.request(
      {
        method: "GET",
        url: (ep) => apiUrl(ep, "/health"),
        // a 503 "no leader" answer is a result here, not an endpoint failure
        acceptServerErrors: true,
        ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
      },
      options,
    );
    let health = false;
    try {
      const h = (JSON.parse(raw.body) as { health?: unknown }).health;
      health = h === true || h === "true";
    } catch {
      health = false;
    }
    return { health, status: raw.status };
  }
}
