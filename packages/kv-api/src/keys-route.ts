/**
 * `/v2/keys` without a framework: the route a server calls directly for the
 * plain key requests (GET, PUT, POST, DELETE on a clean `/v2/keys` path),
 * skipping the Hono app and the Request/Response objects on the hot path.
 * It answers exactly what the app answers; anything out of the ordinary
 * (HEAD, OPTIONS, paths Go's mux would redirect, bad escapes, other routes)
 * it declines, and the server hands that request to the app.
 */
import type { KvApiOptions } from "./app.js";
import type { Backend } from "./backend.js";
import { decodeGoUtf8, unescapeBytes } from "./form.js";
import { type BaseHeaders, corsHeaders, muxCleanPath } from "./http.js";
import { handleKeys, type KeysAnswer, keysResponse, thrownAnswer } from "./keys.js";
import { nowMicros } from "./time.js";

/** Go's form limit: a larger body goes to the app, which answers etcd's error. */
const MAX_FORM = 10 << 20;

/**
 * Whether a request's body is one the keys route reads: none, or a
 * `Content-Length` of at most 10 MiB. A chunked or larger body goes to the
 * app, which streams it and answers etcd's error past the limit.
 */
export function routeTakesBody(
  transferEncoding: string | null | undefined,
  contentLength: string | null | undefined,
): boolean {
  if (transferEncoding !== null && transferEncoding !== undefined) return false;
  return contentLength === null || contentLength === undefined || Number(contentLength) <= MAX_FORM;
}

/** A request as the keys route needs it, from whatever server received it. */
export interface KeysCall {
  /** The method exactly as sent. */
  readonly method: string;
  /** The raw request-target (path and query as received). */
  readonly target: string;
  /** A request header by its lower-case name. */
  header(name: string): string | undefined;
  /** The whole body; asked only when `Content-Length` is at most 10 MiB. */
  bodyBytes(): Promise<Uint8Array>;
}

/**
 * The keys route: an answer, or undefined when the request is not one it
 * serves (the server then hands it to the app).
 */
export type KeysRoute = (call: KeysCall) => Promise<KeysAnswer> | undefined;

/** A request-target split and decoded the way Go's server and mux see it. */
export interface Target {
  readonly rawPath: string;
  readonly rawQuery: string;
  /** The percent-decoded path. */
  readonly path: string;
}

/** Splits and decodes a request-target; undefined for a bad escape (Go's bare 400). */
export function parseTarget(target: string): Target | undefined {
  const q = target.indexOf("?");
  const rawPath = q === -1 ? target : target.slice(0, q);
  const rawQuery = q === -1 ? "" : target.slice(q + 1);
  try {
    return { rawPath, rawQuery, path: decodeGoUtf8(unescapeBytes(rawPath, false)) };
  } catch {
    return undefined;
  }
}

/**
 * The CORS headers for a request (spec §1.2): with `--cors` `*` (etcd's
 * default) every answer carries them; otherwise only an answer to a listed
 * `Origin`.
 */
export function corsBase(
  cors: readonly string[],
): (origin: () => string | undefined) => BaseHeaders {
  if (cors.includes("*")) {
    const star = corsHeaders("*");
    return () => star;
  }
  const none: BaseHeaders = {};
  return (origin) => {
    const o = origin();
    return o !== undefined && cors.includes(o) ? corsHeaders(o) : none;
  };
}

/** `/v2/keys` itself or a path below it. */
export function isKeysPath(path: string): boolean {
  return path === "/v2/keys" || path.startsWith("/v2/keys/");
}

/** True when Go's mux would serve `path` as is (no 301 to a cleaned path). */
function isCleanPath(path: string): boolean {
  return (path.indexOf("//") === -1 && path.indexOf("/.") === -1) || muxCleanPath(path) === path;
}

/** The keys route over `backend`, with the app's options (see {@link KeysRoute}). */
export function createKeysRoute(backend: Backend, options: KvApiOptions = {}): KeysRoute {
  const ctx = { backend, clock: options.clock ?? nowMicros };
  const base = corsBase(options.cors ?? ["*"]);
  return (call) => {
    const m = call.method;
    if (m !== "GET" && m !== "PUT" && m !== "POST" && m !== "DELETE") return undefined;
    const t = call.target;
    // `/v2/keys`, then the end, `/` or `?`.
    const after = t.length === 8 ? 47 : t.charCodeAt(8);
    if (!t.startsWith("/v2/keys") || (after !== 47 && after !== 63)) {
      return undefined;
    }
    const target = parseTarget(t);
    if (target === undefined || !isKeysPath(target.path) || !isCleanPath(target.path)) {
      return undefined;
    }
    const headers = base(() => call.header("origin"));
    return handleKeys(ctx, headers, {
      method: m,
      rest: target.path.slice("/v2/keys".length),
      rawQuery: target.rawQuery,
      contentType: call.header("content-type") ?? null,
      contentLength: call.header("content-length") ?? null,
      body: () => null,
      bodyBytes: () => call.bodyBytes(),
    }).catch((err: unknown) => thrownAnswer(headers, err));
  };
}

/** The path and query of a request URL as received (`http://h:1/a?b` → `/a?b`). */
export function targetFromUrl(url: string): string {
  const scheme = url.indexOf("//");
  const slash = url.indexOf("/", scheme === -1 ? 0 : scheme + 2);
  return slash === -1 ? "/" : url.slice(slash);
}

/**
 * A fetch handler that answers plain key requests through `route` and
 * everything else through `app`: the keys route for servers that hand out
 * Web Requests (Bun, Deno). The target is read from the request URL, as
 * the app reads it on those servers.
 */
export function keysFetch(
  route: KeysRoute,
  app: (request: Request) => Response | Promise<Response>,
): (request: Request) => Response | Promise<Response> {
  return (request) => {
    const headers = request.headers;
    if (!routeTakesBody(headers.get("transfer-encoding"), headers.get("content-length"))) {
      return app(request);
    }
    const pending = route({
      method: request.method,
      target: targetFromUrl(request.url),
      header: (name) => headers.get(name) ?? undefined,
      bodyBytes: async () => new Uint8Array(await request.arrayBuffer()),
    });
    if (pending === undefined) return app(request);
    return pending.then((answer) => keysResponse(answer, request.signal));
  };
}
