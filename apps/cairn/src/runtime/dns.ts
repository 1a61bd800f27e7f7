/**
 * DNS for bootstrap by DNS SRV (spec bootstrap.md §4): what a runtime adapter
 * provides, and the error every adapter reports a failed lookup with. The
 * lookups themselves differ per runtime (`node:dns` on Node and Bun,
 * `Deno.resolveDns` on Deno), so they live in the adapters.
 */

/** A DNS server to ask instead of the system resolver (`--discovery-srv-resolver`). */
export interface ResolverAddress {
  /** An IPv4 or IPv6 address (no brackets). */
  readonly host: string;
  readonly port: number;
}

/** One SRV answer (RFC 2782); `target` without its trailing dot. */
export interface SrvAnswer {
  readonly target: string;
  readonly port: number;
  readonly priority: number;
  readonly weight: number;
}

/** The lookups SRV bootstrap needs, all through one resolver. */
export interface DnsResolver {
  /** The SRV records of `name` (e.g. `_etcd-server._tcp.example.com`); rejects with {@link DnsLookupError}. */
  resolveSrv(name: string): Promise<SrvAnswer[]>;
  /**
   * The IPv4 and IPv6 addresses of the host name `host`: through
   * the configured server when there is one, else the way the system resolves
   * host names (hosts file included). Rejects with {@link DnsLookupError}.
   */
  resolveAddresses(host: string): Promise<string[]>;
}

/**
 * A lookup that failed. The message is Go's `net.DNSError` text, which etcd
 * prints inside its own messages: `lookup <name> on <server>: no such host`.
 */
export class DnsLookupError extends Error {
  override readonly name = "DnsLookupError";
  /** `NOT_FOUND` for NXDOMAIN or no records of the type asked; `FAILED` for anything else. */
  readonly code: "NOT_FOUND" | "FAILED";

  constructor(
    lookup: { name: string; server: string | undefined; notFound: boolean; detail: string },
    options?: { cause?: unknown },
  ) {
    const where = lookup.server === undefined ? "" : ` on ${lookup.server}`;
    super(
      `lookup ${lookup.name}${where}: ${lookup.notFound ? "no such host" : lookup.detail}`,
      options,
    );
    this.code = lookup.notFound ? "NOT_FOUND" : "FAILED";
  }
}

/** `node:dns` (and getaddrinfo) codes for "the name, or a record of that type, does not exist". */
export const NOT_FOUND_CODES: ReadonlySet<string> = new Set([
  "ENOTFOUND",
  "ENODATA",
  "EAI_NONAME",
  "EAI_NODATA",
]);

/** `host:port` as Go prints a resolver address (`[::1]:53` for IPv6). */
export function formatResolver(address: ResolverAddress): string {
  return address.host.includes(":")
    ? `[${address.host}]:${address.port}`
    : `${address.host}:${address.port}`;
}
