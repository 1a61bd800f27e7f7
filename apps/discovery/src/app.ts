import { type KeyResult, renderError, renderEvent } from "@cairn/kv-api";
import { type Logger, silentLogger } from "@cairn/server";
import {
  cleanPath,
  statusOfErrorCode,
  type V2ErrorData,
  type V2Event,
  v2ErrorData,
} from "@cairn/v2store";
import { type Context, Hono } from "hono";
import { z } from "zod";
import type { DiscoveryBackend } from "./backend.js";
import { RateLimiter, type RateLimitOptions } from "./rate-limit.js";
import { createdKey, newToken, sizeKey, TOKEN_PATTERN, tokenKey } from "./token.js";

/** Largest cluster size `GET /new` accepts. */
export const MAX_CLUSTER_SIZE = 1000;
/** Cluster size when `/new` is called without `size` (discovery.etcd.io's default). */
export const DEFAULT_CLUSTER_SIZE = 3;
/** Longest registration value accepted (a registration is `name=peerURL[,…]`). */
export const MAX_VALUE_BYTES = 4096;

/** How {@link createDiscoveryApp} is set up. */
export interface DiscoveryAppOptions {
  /** Where tokens live: the embedded store, or any kv-api backend. */
  readonly backend: DiscoveryBackend;
  /** Public base URL of the service (`--host`); token URLs are `<publicUrl>/<token>`. */
  readonly publicUrl: string;
  /** Per-client-address limit; absent = unlimited. */
  readonly rateLimit?: RateLimitOptions | undefined;
  /**
   * The client address of a request, for rate limiting. Runtime-specific
   * (the Node adapter reads the socket); absent or `undefined` puts every
   * request in one shared bucket.
   */
  readonly clientAddress?: ((c: Context) => string | undefined) | undefined;
  /** Clock in ms since the epoch (token creation times, rate limiting); default `Date.now`. */
  readonly now?: (() => number) | undefined;
  readonly logger?: Logger | undefined;
}

// etcd parses booleans with Go's strconv.ParseBool.
const GO_TRUE = new Set(["1", "t", "T", "TRUE", "true", "True"]);
const GO_FALSE = new Set(["0", "f", "F", "FALSE", "false", "False"]);
const goBool = z
  .string()
  .refine((s) => GO_TRUE.has(s) || GO_FALSE.has(s))
  .transform((s) => GO_TRUE.has(s));

/** The query of a token GET (bootstrap.md §3.3: members send all of these). */
const getQuery = z.object({
  wait: goBool.optional(),
  recursive: goBool.optional(),
  sorted: goBool.optional(),
  quorum: goBool.optional(),
  waitIndex: z
    .string()
    .regex(/^\d{1,15}$/)
    .transform(Number)
    .optional(),
});

/** `size` of `GET /new`. */
const sizeParam = z
  .string()
  .regex(/^\d+$/, "not a whole number")
  .transform(Number)
  .pipe(z.number().int().min(1).max(MAX_CLUSTER_SIZE))
  .optional();

/** Write options the service does not offer: a registration is a plain, permanent create. */
const UNSUPPORTED_WRITE_FIELDS = ["ttl", "dir", "prevValue", "prevIndex", "refresh"] as const;

/**
 * The discovery service as a Hono app (bootstrap.md §3.6):
 * - `GET /new?size=N` creates a token and answers its URL as plain text;
 * - `GET|PUT|DELETE /<token>[/<key>]` serve the subset of etcd's v2 keys API
 *   members use, with v2 bodies, `X-Etcd-Index` and v2 error bodies;
 * - `GET /health`.
 * Registrations are create-only (`PUT` of an existing key is 412/105). Writes
 * reach only `<token>/<name>`; the token directory and `_config` are the
 * service's. Serving (and the GC timer) belong to the runtime entry.
 */
export function createDiscoveryApp(options: DiscoveryAppOptions): Hono {
  const { backend } = options;
  const now = options.now ?? Date.now;
  const log = options.logger ?? silentLogger;
  const base = options.publicUrl.replace(/\/+$/, "");
  const limiter = options.rateLimit === undefined ? undefined : new RateLimiter(options.rateLimit);
  const app = new Hono();

  app.get("/health", async () => {
    const ok = await backend.health();
    return new Response(`{"health":"${ok}"}`, {
      status: ok ? 200 : 503,
      headers: { "Content-Type": "application/json" },
    });
  });

  if (limiter !== undefined) {
    app.use("*", async (c, next) => {
      const address = options.clientAddress?.(c) ?? "unknown";
      const wait = limiter.take(address, now());
      if (wait > 0) {
        return c.text(`too many requests from ${address}; retry in ${wait}s\n`, 429, {
          "Retry-After": String(wait),
        });
      }
      return next();
    });
  }

  app.get("/new", async (c) => {
    const parsed = sizeParam.safeParse(c.req.query("size"));
    if (!parsed.success) {
      return c.text(
        `invalid size ${JSON.stringify(c.req.query("size"))}: the cluster size must be a whole number from 1 to ${MAX_CLUSTER_SIZE}\n`,
        400,
      );
    }
    const size = parsed.data ?? DEFAULT_CLUSTER_SIZE;
    const token = await createToken(backend, size, now());
    if (typeof token !== "string") {
      log.error("could not create a token", { error: token.message, cause: token.cause });
      return errorResponse(token);
    }
    log.info("created token", { token, size });
    return c.text(`${base}/${token}`, 200);
  });

  app.on(["GET", "PUT", "DELETE"], ["/:token", "/:token/*"], async (c) => {
    const token = c.req.param("token");
    const key = tokenPath(c.req.path);
    if (!TOKEN_PATTERN.test(token) || key === undefined || !isUnder(key, token)) {
      return c.notFound();
    }
    if (c.req.method === "GET") return get(c, key);
    return write(c, token, key);
  });

  async function get(c: Context, key: string): Promise<Response> {
    const q = getQuery.safeParse(c.req.query());
    if (!q.success) {
      const field = q.error.issues[0]?.path[0];
      return errorResponse(
        v2ErrorData(field === "waitIndex" ? 203 : 209, `invalid ${String(field)}`, 0),
      );
    }
    const { wait = false, recursive = false, sorted = false, waitIndex = 0 } = q.data;
    if (wait) return watch(c, key, recursive, waitIndex);
    return keyResponse(
      await backend.read({ key, recursive, sorted, time: now() * 1000 }, { linearizable: false }),
      200,
    );
  }

  async function write(c: Context, token: string, key: string): Promise<Response> {
    // Only `<token>/<name>` is writable: the token directory and its hidden
    // `_config` belong to the service (members never write elsewhere).
    const rest = key.slice(tokenKey(token).length + 1);
    if (rest === "" || rest.includes("/") || rest.startsWith("_")) {
      return errorResponse(v2ErrorData(107, key, 0));
    }
    const form = await readForm(c);
    for (const field of UNSUPPORTED_WRITE_FIELDS) {
      if (form.has(field)) {
        return errorResponse(
          v2ErrorData(209, `${field} is not supported by the discovery service`, 0),
        );
      }
    }
    // An unknown (or collected) token is a v2 404, never an implicit new directory.
    const dir = await backend.read(
      { key: tokenKey(token), recursive: false, sorted: false, time: now() * 1000 },
      { linearizable: false },
    );
    if (dir.error !== undefined) return keyResponse(dir, 200);
    if (c.req.method === "DELETE") {
      return keyResponse(await backend.propose({ method: "DELETE", key, time: now() * 1000 }), 200);
    }
    const value = form.get("value");
    if (value === null || value === "") return errorResponse(v2ErrorData(200, "", 0));
    if (new TextEncoder().encode(value).byteLength > MAX_VALUE_BYTES) {
      return errorResponse(v2ErrorData(209, `value longer than ${MAX_VALUE_BYTES} bytes`, 0));
    }
    const prevExist = form.get("prevExist");
    if (prevExist !== null && !GO_FALSE.has(prevExist)) {
      return errorResponse(v2ErrorData(209, "registrations are create-only (prevExist=false)", 0));
    }
    return keyResponse(
      await backend.propose({ method: "PUT", key, value, prevExist: false, time: now() * 1000 }),
      201,
    );
  }

  async function watch(
    c: Context,
    key: string,
    recursive: boolean,
    sinceIndex: number,
  ): Promise<Response> {
    const requestSignal = c.req.raw.signal;
    const abort = new AbortController();
    const onRequestAbort = () => abort.abort();
    if (requestSignal.aborted) abort.abort();
    else requestSignal.addEventListener("abort", onRequestAbort, { once: true });
    const encoder = new TextEncoder();
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      requestSignal.removeEventListener("abort", onRequestAbort);
      abort.abort();
      try {
        controller.close();
      } catch {
        // already closed or cancelled by the client
      }
    };
    // A long poll: headers go out at once, the body when the first event
    // arrives (etcd flushes the headers of a watch immediately).
    const body = new ReadableStream<Uint8Array>({
      start(ctl) {
        controller = ctl;
      },
      cancel() {
        done = true;
        requestSignal.removeEventListener("abort", onRequestAbort);
        abort.abort();
      },
    });
    const sink = {
      event(e: V2Event) {
        if (done) return;
        controller.enqueue(encoder.encode(renderEvent(e)));
        finish();
      },
      end() {
        finish();
      },
    };
    const start = await backend.watch(
      { key, recursive, stream: false, sinceIndex },
      sink,
      abort.signal,
    );
    if (start.error !== undefined) {
      finish();
      return errorResponse(start.error);
    }
    return new Response(body, {
      status: 200,
      headers: {
        "Content-Type": "application/json",
        "X-Etcd-Index": String(start.etcdIndex),
        "X-Raft-Index": String(start.raftIndex),
        "X-Raft-Term": String(start.raftTerm),
      },
    });
  }

  app.onError((error, c) => {
    log.error("request failed", { path: c.req.path, error: String(error) });
    return errorResponse(
      v2ErrorData(300, String(error instanceof Error ? error.message : error), 0),
    );
  });

  return app;
}

/** Creates a token with its creation time and size; returns it, or the store's error. */
async function createToken(
  backend: DiscoveryBackend,
  size: number,
  nowMs: number,
): Promise<string | V2ErrorData> {
  const time = nowMs * 1000;
  // A collision of 128 random bits is not expected; a create-only write makes
  // one harmless anyway (a fresh token is drawn).
  for (let attempt = 0; ; attempt++) {
    const token = newToken();
    // The creation time first: a crash between the two writes leaves a token
    // nobody was told about, which the GC still removes.
    const created = await backend.propose({
      method: "PUT",
      key: createdKey(token),
      value: new Date(nowMs).toISOString(),
      prevExist: false,
      time,
    });
    if (created.error !== undefined) {
      if (created.error.errorCode === 105 && attempt < 3) continue;
      return created.error;
    }
    const sized = await backend.propose({
      method: "PUT",
      key: sizeKey(token),
      value: String(size),
      time,
    });
    return sized.error ?? token;
  }
}

/** The store key of a request path, or undefined when it does not decode. */
function tokenPath(path: string): string | undefined {
  try {
    return cleanPath(decodeURIComponent(path));
  } catch {
    return undefined;
  }
}

/** `key` is the token directory or below it (a `..` cannot climb out). */
function isUnder(key: string, token: string): boolean {
  const dir = tokenKey(token);
  return key === dir || key.startsWith(`${dir}/`);
}

/** Form fields of a write: the body (when form-encoded) over the query, as Go's `FormValue`. */
async function readForm(c: Context): Promise<URLSearchParams> {
  const out = new URLSearchParams(new URL(c.req.url).search);
  const type = c.req.header("Content-Type") ?? "";
  if (type.startsWith("application/x-www-form-urlencoded")) {
    const body = new URLSearchParams(await c.req.text());
    for (const name of new Set(body.keys())) {
      out.delete(name);
      for (const v of body.getAll(name)) out.append(name, v);
    }
  }
  return out;
}

function keyResponse(result: KeyResult, status: number): Response {
  if (result.error !== undefined) return errorResponse(result.error);
  const event = result.event!;
  return new Response(renderEvent(event), {
    status,
    headers: {
      "Content-Type": "application/json",
      "X-Etcd-Index": String(event.etcdIndex),
      "X-Raft-Index": String(result.raftIndex),
      "X-Raft-Term": String(result.raftTerm),
    },
  });
}

function errorResponse(error: V2ErrorData): Response {
  return new Response(renderError(error), {
    status: statusOfErrorCode(error.errorCode),
    headers: { "Content-Type": "application/json", "X-Etcd-Index": String(error.index) },
  });
}
