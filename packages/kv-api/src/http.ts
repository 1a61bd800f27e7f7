// Small response helpers shared by the routes: Go net/http's canned answers
// (404 page, 405, 301) and the header sets etcd sends.

/** Headers every response carries (CORS, computed per request). */
export type BaseHeaders = Record<string, string>;

/**
 * `base` followed by `extra`, as one header record in that order. Not
 * `{ ...base, ...more }`: V8 builds an object spread followed by more keys
 * through a slow path, measured at about 6 µs per answer here against
 * 0.2 µs for this copy, on every response.
 */
export function headersWith(
  base: Record<string, string>,
  extra: Record<string, string>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k in base) out[k] = base[k]!;
  for (const k in extra) out[k] = extra[k]!;
  return out;
}

/** The CORS headers etcd adds for an allowed origin (spec §1.2). */
export function corsHeaders(origin: string): BaseHeaders {
  return {
    "Access-Control-Allow-Headers": "accept, content-type, authorization",
    "Access-Control-Allow-Methods": "POST, GET, OPTIONS, PUT, DELETE",
    "Access-Control-Allow-Origin": origin,
  };
}

const TEXT = "text/plain; charset=utf-8";

const encoder = new TextEncoder();

/**
 * A response body sized like Go's: net/http sets Content-Length when the
 * whole body fits its 2048-byte buffer and otherwise sends it chunked (no
 * Content-Length). A one-chunk stream makes the server do the same.
 */
export function goBody(text: string): string | ReadableStream<Uint8Array> {
  if (text.length <= 682) return text; // ≤ 3 bytes per UTF-16 unit: surely ≤ 2048 bytes
  const bytes = encoder.encode(text);
  if (bytes.length <= 2048) return text;
  return new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(bytes);
      c.close();
    },
  });
}

/**
 * An answer before any server writes it: status, headers in the order they
 * go on the wire, and the body text (`null`: none). The Hono app turns it
 * into a Response ({@link answerResponse}); a server may also write it
 * directly (the Node keys route does).
 */
export interface PlainAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string | null;
}

/** A {@link PlainAnswer} as a Response, sized like Go's ({@link goBody}). */
export function answerResponse(a: PlainAnswer): Response {
  return new Response(a.body === null ? null : goBody(a.body), {
    status: a.status,
    headers: a.headers,
  });
}

/** Go's `http.Error` as an answer: text body plus newline, nosniff. */
export function goHttpErrorAnswer(
  base: BaseHeaders,
  status: number,
  text: string,
  extra?: Record<string, string>,
): PlainAnswer {
  return {
    status,
    headers: headersWith(base, {
      "Content-Type": TEXT,
      "X-Content-Type-Options": "nosniff",
      ...extra,
    }),
    body: `${text}\n`,
  };
}

/** Go's `http.Error`: text body plus newline, nosniff. */
export function goHttpError(
  base: BaseHeaders,
  status: number,
  text: string,
  extra?: Record<string, string>,
): Response {
  return answerResponse(goHttpErrorAnswer(base, status, text, extra));
}

/** Go's 405 with the `Allow` list (spec §1.1). */
export function methodNotAllowed(base: BaseHeaders, allow: string): Response {
  return goHttpError(base, 405, "Method Not Allowed", { Allow: allow });
}

/** Go's mux 404 (spec §1.1). */
export function notFoundPage(base: BaseHeaders): Response {
  return goHttpError(base, 404, "404 page not found");
}

/** A JSON body with etcd's headers. */
export function json(
  base: BaseHeaders,
  status: number,
  body: string,
  extra?: Record<string, string>,
): Response {
  return new Response(goBody(body), {
    status,
    headers: headersWith(base, { "Content-Type": "application/json", ...extra }),
  });
}

/** `{"message":…}` errors (members, stats). */
export function messageError(
  base: BaseHeaders,
  status: number,
  body: string,
  extra?: Record<string, string>,
): Response {
  return json(base, status, body, extra);
}

// ---- Go's path cleaning and escaping (net/http mux, net/url) ------------

/** net/http's `cleanPath`: path.Clean, keeping one trailing slash. */
export function muxCleanPath(p: string): string {
  if (p === "") return "/";
  const q = p.charCodeAt(0) === 47 ? p : `/${p}`;
  const parts: string[] = [];
  for (const part of q.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  let np = `/${parts.join("/")}`;
  if (q.endsWith("/") && np !== "/") np += "/";
  return np;
}

const PATH_KEEP = /^[A-Za-z0-9\-_.~$&+,/:;=@]$/;

/** net/url path escaping of a byte string (what `url.URL.String()` writes). */
export function escapeGoPath(bytes: string): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) {
    const ch = bytes[i]!;
    if (PATH_KEEP.test(ch)) out += ch;
    else out += `%${bytes.charCodeAt(i).toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** Back from a decoded JS string (with surrogate-escaped bytes) to UTF-8 bytes as a byte string. */
export function toByteString(s: string): string {
  let ascii = true;
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0x7f) {
      ascii = false;
      break;
    }
  }
  if (ascii) return s;
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xdc80 && c <= 0xdcff) {
      out += String.fromCharCode(c - 0xdc00);
      continue;
    }
    const cp = s.codePointAt(i)!;
    if (cp > 0xffff) i++;
    const enc = new TextEncoder().encode(String.fromCodePoint(cp));
    for (const b of enc) out += String.fromCharCode(b);
  }
  return out;
}

/** Go's http.Redirect 301 (spec §1.1). */
export function movedPermanently(base: BaseHeaders, method: string, location: string): Response {
  let loc = "";
  for (let i = 0; i < location.length; i++) {
    const c = location.charCodeAt(i);
    loc += c >= 0x80 ? `%${c.toString(16)}` : location[i];
  }
  const headers: Record<string, string> = headersWith(base, { Location: loc });
  if (method === "GET" || method === "HEAD") headers["Content-Type"] = "text/html; charset=utf-8";
  if (method !== "GET") {
    if (method !== "HEAD") headers["Content-Length"] = "0";
    return new Response(null, { status: 301, headers });
  }
  const href = loc
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&#34;")
    .replaceAll("'", "&#39;");
  return new Response(`<a href="${href}">Moved Permanently</a>.\n\n`, { status: 301, headers });
}
