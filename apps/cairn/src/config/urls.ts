/**
 * etcd's URL rules for its URL-list flags (`types.NewURLs` in etcd 3.4):
 * scheme http, https, unix or unixs; an authority of the form host:port; no
 * path. Values are kept as the operator wrote them (only the scheme is
 * lower-cased, as Go's `url.URL.String()` does), because peer URL strings
 * feed the member id hash (spec bootstrap.md §1) and must hash exactly as
 * etcd hashes them. WHATWG `URL` would rewrite them (`http://h:80` -> `http://h/`),
 * so it is not used here.
 */

const SCHEMES = new Set(["http", "https", "unix", "unixs"]);

/** A URL that failed etcd's rules; `message` is etcd's wording. */
export class UrlSyntaxError extends Error {
  override readonly name = "UrlSyntaxError";
  readonly code = "URL_SYNTAX";
}

/** The parts of a checked URL that later rules need. */
export interface CheckedUrl {
  /** The normalised string (scheme lower-cased, surrounding spaces removed). */
  readonly href: string;
  readonly scheme: string;
  /** Host without port and without IPv6 brackets; may be empty (`http://:2380`). */
  readonly host: string;
  readonly port: string;
}

/** Splits `host:port` like Go's `net.SplitHostPort`; undefined when it is not of that form. */
function splitHostPort(hostport: string): { host: string; port: string } | undefined {
  if (hostport.startsWith("[")) {
    const end = hostport.indexOf("]");
    if (end < 0 || hostport[end + 1] !== ":") return undefined;
    const host = hostport.slice(1, end);
    const port = hostport.slice(end + 2);
    if (port.includes(":")) return undefined;
    return { host, port };
  }
  const colon = hostport.lastIndexOf(":");
  if (colon < 0) return undefined;
  const host = hostport.slice(0, colon);
  // "a:b:c" without brackets is "too many colons" in Go.
  if (host.includes(":")) return undefined;
  return { host, port: hostport.slice(colon + 1) };
}

/** Checks one URL the way etcd checks each element of a URL-list flag. */
export function checkUrl(raw: string): CheckedUrl {
  const input = raw.trim();
  const match = /^([A-Za-z][A-Za-z0-9+.-]*):(.*)$/s.exec(input);
  const scheme = match?.[1]?.toLowerCase() ?? "";
  if (!SCHEMES.has(scheme)) {
    throw new UrlSyntaxError(`URL scheme must be http, https, unix, or unixs: ${input}`);
  }
  const rest = match?.[2] ?? "";
  let authority = "";
  let path = rest;
  if (rest.startsWith("//")) {
    const afterSlashes = rest.slice(2);
    const end = afterSlashes.search(/[/?#]/);
    authority = end < 0 ? afterSlashes : afterSlashes.slice(0, end);
    path = end < 0 ? "" : afterSlashes.slice(end);
  }
  // Only the path part counts; Go keeps query and fragment apart from it.
  const pathOnly = path.split(/[?#]/, 1)[0] ?? "";
  const at = authority.lastIndexOf("@");
  const hostport = at < 0 ? authority : authority.slice(at + 1);
  const parts = splitHostPort(hostport);
  if (parts !== undefined && !/^[0-9]*$/.test(parts.port)) {
    // Go's url.Parse rejects a non-numeric port before etcd looks at the URL.
    throw new UrlSyntaxError(`parse "${input}": invalid port ":${parts.port}" after host`);
  }
  if (parts === undefined) {
    throw new UrlSyntaxError(`URL address does not have the form "host:port": ${input}`);
  }
  if (pathOnly !== "") {
    throw new UrlSyntaxError(`URL must not contain a path: ${input}`);
  }
  return { href: scheme + input.slice(scheme.length), scheme, host: parts.host, port: parts.port };
}

/**
 * Parses a comma-separated URL list as etcd's URL flags do: every element is
 * checked, and the list comes back sorted by string (etcd sorts `types.URLs`).
 * Duplicates are kept, as etcd keeps them.
 */
export function parseUrlList(value: string): CheckedUrl[] {
  const urls = value.split(",").map(checkUrl);
  return urls.sort((a, b) => (a.href < b.href ? -1 : a.href > b.href ? 1 : 0));
}

/** True for the address forms etcd accepts as something to bind to (`checkBindURLs`). */
export function isBindableHost(url: CheckedUrl): boolean {
  if (url.scheme === "unix" || url.scheme === "unixs") return true;
  if (url.host === "localhost") return true;
  return isIpAddress(url.host);
}

/** True when `host` is an IPv4 or IPv6 literal, as Go's `net.ParseIP` decides. */
export function isIpAddress(host: string): boolean {
  if (/^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/.test(host)) {
    return true;
  }
  if (!host.includes(":") || !/^[0-9A-Fa-f:.]+$/.test(host)) return false;
  // An IPv6 literal: at most one "::", 8 groups (or fewer with "::"), an optional IPv4 tail.
  const doubles = host.split("::").length - 1;
  if (doubles > 1) return false;
  let groups = host.split(":").filter((g) => g !== "");
  let count = groups.length;
  const last = groups[groups.length - 1] ?? "";
  if (last.includes(".")) {
    if (!isIpAddress(last)) return false;
    groups = groups.slice(0, -1);
    count = groups.length + 2;
  }
  if (!groups.every((g) => /^[0-9A-Fa-f]{1,4}$/.test(g))) return false;
  return doubles === 1 ? count < 8 : count === 8;
}

/**
 * Reads `--discovery-srv-resolver` (Cairn's own flag): an IP address with an
 * optional port, `127.0.0.1`, `127.0.0.1:5353`, `::1` or `[::1]:5353`; the
 * port defaults to 53. Undefined when the text is not of that form.
 */
export function parseResolverAddress(text: string): { host: string; port: number } | undefined {
  const parts = isIpAddress(text) ? { host: text, port: "53" } : splitHostPort(text);
  if (parts === undefined || !isIpAddress(parts.host) || !/^\d{1,5}$/.test(parts.port)) {
    return undefined;
  }
  const port = Number(parts.port);
  return port >= 1 && port <= 65_535 ? { host: parts.host, port } : undefined;
}
