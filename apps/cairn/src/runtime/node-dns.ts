/**
 * DNS through `node:dns`, shared by the Node and Bun adapters (Bun implements
 * `node:dns`, including a resolver's `setServers` with a port).
 */
import { getServers, lookup, Resolver } from "node:dns/promises";
import {
  DnsLookupError,
  type DnsResolver,
  formatResolver,
  NOT_FOUND_CODES,
  type ResolverAddress,
  type SrvAnswer,
} from "./dns.js";

/** How Go words the other failures (its resolver's own messages). */
const GO_DETAIL: Record<string, string> = {
  ETIMEOUT: "i/o timeout",
  ECONNREFUSED: "connection refused",
  ESERVFAIL: "server misbehaving",
  EREFUSED: "server misbehaving",
};

/**
 * A resolver asking `server`, or the system's (`/etc/resolv.conf`, and the
 * hosts file for addresses) when it is undefined. Go's resolver gives up
 * after 5 s and 2 attempts; so does this one.
 */
export function nodeDnsResolver(server: ResolverAddress | undefined): DnsResolver {
  const resolver = new Resolver({ timeout: 5_000, tries: 2 });
  if (server !== undefined) resolver.setServers([formatResolver(server)]);
  const where = () => {
    if (server !== undefined) return formatResolver(server);
    const first = getServers()[0];
    if (first === undefined) return undefined;
    // getServers() shows a port only when it is not 53.
    return /^\[.*\]:\d+$|^[\d.]+:\d+$/.test(first)
      ? first
      : formatResolver({ host: first, port: 53 });
  };
  const fail = (name: string, error: unknown): never => {
    const code = String((error as { code?: unknown }).code ?? "");
    throw new DnsLookupError(
      {
        name,
        server: where(),
        notFound: NOT_FOUND_CODES.has(code),
        detail: GO_DETAIL[code] ?? (code || String(error)),
      },
      { cause: error },
    );
  };
  return {
    async resolveSrv(name) {
      try {
        const records = await resolver.resolveSrv(name);
        return records.map(
          (r): SrvAnswer => ({
            target: r.name.replace(/\.$/, ""),
            port: r.port,
            priority: r.priority,
            weight: r.weight,
          }),
        );
      } catch (error) {
        return fail(name, error);
      }
    },
    async resolveAddresses(host) {
      if (server === undefined) {
        try {
          return (await lookup(host, { all: true })).map((a) => a.address);
        } catch (error) {
          return fail(host, error);
        }
      }
      // Both families; a name with only one of them is fine.
      const [v4, v6] = await Promise.allSettled([resolver.resolve4(host), resolver.resolve6(host)]);
      const found = [
        ...(v4.status === "fulfilled" ? v4.value : []),
        ...(v6.status === "fulfilled" ? v6.value : []),
      ];
      if (found.length > 0) return found;
      return fail(host, v4.status === "rejected" ? v4.reason : undefined);
    },
  };
}
