/**
 * URL building the way etcd's Go client does it, so requests (and the curl
 * lines `--debug` prints) are the same bytes: keys are escaped like Go's
 * `url.URL.EscapedPath`, form and query values like `url.Values.Encode`
 * (sorted by name, `+` for space).
 */

const HEX = "0123456789ABCDEF";

function isUnreserved(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) || // a-z
    (c >= 0x41 && c <= 0x5a) || // A-Z
    (c >= 0x30 && c <= 0x39) || // 0-9
    c === 0x2d || // -
    c === 0x5f || // _
    c === 0x2e || // .
    c === 0x7e // ~
  );
}

function escapeBytes(s: string, keep: (c: number) => boolean, spaceAsPlus: boolean): string {
  let out = "";
  for (const b of new TextEncoder().encode(s)) {
    if (keep(b)) out += String.fromCharCode(b);
    else if (spaceAsPlus && b === 0x20) out += "+";
    else out += `%${HEX[b >> 4]}${HEX[b & 15]}`;
  }
  return out;
}

/** Go's path escaping: `$&+,/:;=@` stay, `?` and everything not unreserved is %-escaped. */
export function escapePath(path: string): string {
  return escapeBytes(
    path,
    (c) => isUnreserved(c) || "$&+,/:;=@".includes(String.fromCharCode(c)),
    false,
  );
}

/** Go's `url.QueryEscape`. */
export function queryEscape(s: string): string {
  return escapeBytes(s, isUnreserved, true);
}

/** Go's `url.Values.Encode`: pairs sorted by name. */
export function encodeValues(values: Readonly<Record<string, string>>): string {
  return Object.keys(values)
    .sort()
    .map((k) => `${queryEscape(k)}=${queryEscape(values[k] ?? "")}`)
    .join("&");
}

/**
 * `path.Clean`, but keeping a trailing slash (etcd's `CanonicalURLPath`), so
 * `/v2/keys/` + `/d/` stays a directory path and `a//b/../c` becomes `/a/c`.
 */
export function canonicalPath(p: string): string {
  if (p === "") return "/";
  const parts: string[] = [];
  for (const seg of p.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") parts.pop();
    else parts.push(seg);
  }
  let out = `/${parts.join("/")}`;
  if (p.endsWith("/") && out !== "/") out += "/";
  return out;
}

/** Joins an endpoint, `/v2/keys` and a key as the Go client's `v2KeysURL` does. */
export function keysUrl(
  endpoint: string,
  key: string,
  query: Readonly<Record<string, string>>,
): string {
  const base = new URL(endpoint);
  const k = key === "" || key.startsWith("/") ? key : `/${key}`;
  const basePath = base.pathname === "/" ? "" : base.pathname;
  const path = canonicalPath(`${basePath}/v2/keys${k}`);
  const qs = encodeValues(query);
  return `${base.protocol}//${base.host}${escapePath(path)}${qs === "" ? "" : `?${qs}`}`;
}

/** An endpoint plus a fixed API path (`/v2/members`, `/health`, …). */
export function apiUrl(endpoint: string, path: string): string {
  const base = new URL(endpoint);
  const basePath = base.pathname === "/" ? "" : base.pathname.replace(/\/$/, "");
  return `${base.protocol}//${base.host}${basePath}${path}`;
}

/**
 * Go's `strconv.Quote` (used by the curl lines of `--debug`): `"` and `\`
 * escaped, control characters as `\n`, `\t`, `\x01`…, printable Unicode kept.
 */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    if (ch === '"' || ch === "\\") out += `\\${ch}`;
    else if (c === 0x07) out += "\\a";
    else if (c === 0x08) out += "\\b";
    else if (c === 0x0c) out += "\\f";
    else if (c === 0x0a) out += "\\n";
    else if (c === 0x0d) out += "\\r";
    else if (c === 0x09) out += "\\t";
    else if (c === 0x0b) out += "\\v";
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, "0")}`;
    else if (c >= 0x80 && c < 0xa0) out += `\\u${c.toString(16).padStart(4, "0")}`;
    else out += ch;
  }
  return `${out}"`;
}
