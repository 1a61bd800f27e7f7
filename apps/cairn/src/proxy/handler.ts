/**
 * The v2 proxy's request handler, as etcd 3.4's `proxy/httpproxy` reverse
 * proxy answers (spec bootstrap.md §3.4): every request is sent on to the
 * first cluster client URL that answers, trying the next one when a URL
 * cannot be reached (and leaving that one out for the failure wait); the
 * member's status, headers and body come back as they are, the body streamed
 * (a `?wait=true` watch stays open through the proxy). Web-standard only.
 *
 * Observed of etcd 3.4.23 (and matched):
 * - no endpoint known: `503 {"message":"httpproxy: zero endpoints currently available"}`;
 * - none answered: `502 {"message":"httpproxy: unable to get response from N endpoint(s)"}`;
 * - `GET /v2/config/local/proxy`: `{"endpoints":[...]}` and a newline, as text/plain;
 * - `--proxy readonly`: anything but GET is a bare `501` with an empty body;
 * - `OPTIONS` is answered by the proxy's CORS layer, not forwarded.
 * Deliberate difference: etcd's CORS layer adds its headers on top of the
 * member's, so a forwarded answer carries each `Access-Control-*` header
 * twice (which browsers refuse); Cairn passes the member's once.
 */
import { canonicalHeaderKey, corsHeaders } from "@cairn/kv-api";
import type { Logger } from "../log/index.js";
import type { Director } from "./director.js";

/** Headers meaningful for one connection only, never forwarded (RFC 7230 §6.1, as Go's proxy lists them). */
const HOP_BY_HOP = [
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailers",
  "transfer-encoding",
  "upgrade",
];

/** What {@link createProxyHandler} needs. */
export interface ProxyHandlerOptions {
  readonly director: Director;
  /** `--proxy readonly`: only GET passes. */
  readonly readonly: boolean;
  /** `--cors` origins (`["*"]` allows all, as etcd). */
  readonly cors: readonly string[];
  /** `--proxy-read-timeout` (0: none): a bound on each forwarded exchange. */
  readonly readTimeoutMs: number;
  readonly logger: Logger;
  /** The fetch to forward with (default: the global one). */
  readonly fetch?: typeof fetch;
}

/** A fetch-style handler serving the proxy on a client URL. */
export function createProxyHandler(
  options: ProxyHandlerOptions,
): (request: Request) => Promise<Response> {
  const forward = options.fetch ?? globalThis.fetch;
  const log = options.logger;
  const allowAll = options.cors.includes("*");

  const cors = (request: Request): Record<string, string> => {
    if (allowAll) return corsHeaders("*");
    const origin = request.headers.get("Origin");
    return origin !== null && options.cors.includes(origin) ? corsHeaders(origin) : {};
  };
  const httpError = (request: Request, status: number, message: string): Response => {
    log.info(message);
    return new Response(JSON.stringify({ message: `httpproxy: ${message}` }), {
      status,
      headers: { ...cors(request), "Content-Type": "application/json" },
    });
  };

  return async (request) => {
    // The read-only check wraps everything else in etcd, CORS included.
    if (options.readonly && request.method !== "GET") {
      return new Response(null, { status: 501, headers: { "Content-Length": "0" } });
    }
    if (request.method === "OPTIONS") {
      return new Response(null, {
        status: 200,
        headers: { ...cors(request), "Content-Length": "0" },
      });
    }
    const url = new URL(request.url);
    if (url.pathname === "/v2/config/local/proxy") return configAnswer(request, cors(request));

    const endpoints = options.director.endpoints();
    if (endpoints.length === 0)
      return httpError(request, 503, "zero endpoints currently available");

    // etcd reads the whole request body first, so it can be sent again to the next endpoint.
    const body =
      request.method === "GET" || request.method === "HEAD"
        ? undefined
        : new Uint8Array(await request.arrayBuffer());
    const headers = new Headers(request.headers);
    for (const h of [...HOP_BY_HOP, "host", "content-length"]) headers.delete(h);

    for (const endpoint of endpoints) {
      const signals = [request.signal];
      if (options.readTimeoutMs > 0) signals.push(AbortSignal.timeout(options.readTimeoutMs));
      let upstream: Response;
      try {
        upstream = await forward(`${endpoint}${url.pathname}${url.search}`, {
          method: request.method,
          headers,
          ...(body === undefined ? {} : { body }),
          // A member's 301/307 goes back to the client, as etcd's proxy passes it.
          redirect: "manual",
          signal: AbortSignal.any(signals),
        });
      } catch (error) {
        // The client went away: nobody is left to answer.
        if (request.signal.aborted) return new Response(null, { status: 499 });
        log.info("failed to direct request", {
          endpoint,
          error: error instanceof Error ? (error.cause ?? error).toString() : String(error),
        });
        options.director.failed(endpoint);
        continue;
      }
      // A plain record with Go's canonical names: the Node server writes them as given.
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries(cors(request))) out[k] = v;
      upstream.headers.forEach((v, k) => {
        if (!HOP_BY_HOP.includes(k)) out[canonicalHeaderKey(k)] = v;
      });
      return new Response(upstream.body, {
        status: upstream.status,
        statusText: upstream.statusText,
        headers: out,
      });
    }
    return httpError(request, 502, `unable to get response from ${endpoints.length} endpoint(s)`);
  };

  function configAnswer(request: Request, base: Record<string, string>): Response {
    if (request.method !== "GET") {
      return new Response("Method Not Allowed\n", {
        status: 405,
        headers: {
          ...base,
          Allow: "GET",
          "Content-Type": "text/plain; charset=utf-8",
          "X-Content-Type-Options": "nosniff",
        },
      });
    }
    const endpoints = options.director.endpoints();
    return new Response(`${JSON.stringify({ endpoints })}\n`, {
      status: 200,
      headers: { ...base, "Content-Type": "text/plain; charset=utf-8" },
    });
  }
}
