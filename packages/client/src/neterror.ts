/**
 * Turns a failed `fetch` into the text Go's net package would print, because
 * etcdctl users grep for `connect: connection refused`. Node (undici), Bun
 * and Deno each report network failures differently; this is the one place
 * that knows their shapes.
 */

interface ErrorLike {
  readonly code?: unknown;
  readonly message?: unknown;
  readonly cause?: unknown;
  readonly errors?: unknown;
  readonly address?: unknown;
  readonly port?: unknown;
}

function asErrorLike(e: unknown): ErrorLike | undefined {
  return typeof e === "object" && e !== null ? (e as ErrorLike) : undefined;
}

/** Every error in the cause chain (and inside AggregateErrors), outermost first. */
function chain(e: unknown): ErrorLike[] {
  const out: ErrorLike[] = [];
  const queue: unknown[] = [e];
  while (queue.length > 0 && out.length < 16) {
    const cur = asErrorLike(queue.shift());
    if (cur === undefined) continue;
    out.push(cur);
    if (Array.isArray(cur.errors)) queue.push(...cur.errors);
    if (cur.cause !== undefined) queue.push(cur.cause);
  }
  return out;
}

/** Go's `host:port` of an endpoint URL (default port from the scheme). */
export function hostPort(url: string): string {
  const u = new URL(url);
  const port = u.port !== "" ? u.port : u.protocol === "https:" ? "443" : "80";
  return `${u.hostname}:${port}`;
}

/** A network failure described as Go would, and whether it was connection-level. */
export interface NetFailure {
  readonly message: string;
  /** Refused, reset, unreachable, timed out: nothing usable came back. */
  readonly connection: boolean;
}

/** Describes why `fetch(url)` threw, in Go's words where we know them. */
export function describeFetchError(url: string, error: unknown): NetFailure {
  const errs = chain(error);
  const codes = errs.map((e) => (typeof e.code === "string" ? e.code : ""));
  const text = errs.map((e) => (typeof e.message === "string" ? e.message : "")).join(" | ");
  let addr = hostPort(url);
  const withAddr = errs.find((e) => typeof e.address === "string" && e.port !== undefined);
  if (withAddr !== undefined) {
    const a = String(withAddr.address);
    addr = a.includes(":") ? `[${a}]:${String(withAddr.port)}` : `${a}:${String(withAddr.port)}`;
  }
  const has = (...cs: string[]) => codes.some((c) => cs.includes(c));
  if (has("ECONNREFUSED", "ConnectionRefused") || /connection refused/i.test(text)) {
    return { message: `dial tcp ${addr}: connect: connection refused`, connection: true };
  }
  if (has("ENOTFOUND", "EAI_AGAIN") || /dns error|failed to lookup|getaddrinfo/i.test(text)) {
    return { message: `dial tcp: lookup ${new URL(url).hostname}: no such host`, connection: true };
  }
  if (has("EHOSTUNREACH", "ENETUNREACH")) {
    return { message: `dial tcp ${addr}: connect: no route to host`, connection: true };
  }
  if (has("ECONNRESET", "ConnectionReset") || /connection reset/i.test(text)) {
    return { message: `read tcp ${addr}: read: connection reset by peer`, connection: true };
  }
  if (has("ETIMEDOUT", "UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT")) {
    return { message: `dial tcp ${addr}: i/o timeout`, connection: true };
  }
  if (
    has("UND_ERR_SOCKET", "ECONNCLOSED", "UND_ERR_CLOSED") ||
    /other side closed|terminated/i.test(text)
  ) {
    return { message: "EOF", connection: true };
  }
  // TLS failures are not connection failures for etcdctl (its sync ignores them; the command then fails, exit 4).
  const alert = /alert ([a-z ]+?)(?::|$)/i.exec(text);
  if (alert !== null)
    return { message: `remote error: tls: ${alert[1]!.toLowerCase()}`, connection: false };
  if (
    has(
      "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
      "SELF_SIGNED_CERT_IN_CHAIN",
      "DEPTH_ZERO_SELF_SIGNED_CERT",
      "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
    )
  ) {
    return { message: "x509: certificate signed by unknown authority", connection: false };
  }
  if (has("CERT_HAS_EXPIRED"))
    return { message: "x509: certificate has expired or is not yet valid", connection: false };
  if (has("ERR_TLS_CERT_ALTNAME_INVALID")) {
    return {
      message: `x509: certificate is not valid for ${new URL(url).hostname}`,
      connection: false,
    };
  }
  const first = errs[errs.length - 1];
  const msg =
    typeof first?.message === "string" && first.message !== "" ? first.message : String(error);
  return { message: msg, connection: true };
}
