/**
 * Bootstrap by DNS SRV, the member side (spec bootstrap.md §4.1–4.2): the
 * initial cluster from the `_etcd-server-ssl[-S]._tcp.D` (https) and
 * `_etcd-server[-S]._tcp.D` (http) records, this member found among them by
 * resolved address and port. DNS itself comes from the runtime adapter.
 *
 * Unlike etcd 3.4.23, which throws the http records away (§4.3, etcd issue
 * #11321), both record sets are used and only both lookups failing is an
 * error: the behaviour etcd intended and 3.5 has.
 */
import { checkUrl, isIpAddress } from "../config/index.js";
import { type Logger, silentLogger } from "../log/index.js";
import { DnsLookupError, type DnsResolver } from "../runtime/dns.js";
import { SrvError } from "./errors.js";

/** What {@link clusterFromSrv} needs. */
export interface SrvBootstrapOptions {
  /** `--discovery-srv`: the domain whose records describe the cluster. */
  readonly domain: string;
  /** `--discovery-srv-name`: a suffix to the service names (`_etcd-server-<suffix>._tcp`), or "". */
  readonly suffix: string;
  /** This member's `--name`. */
  readonly name: string;
  /** This member's `--initial-advertise-peer-urls`. */
  readonly advertisePeerUrls: readonly string[];
  readonly resolver: DnsResolver;
  readonly logger?: Logger;
}

/** The cluster the records describe. */
export interface SrvCluster {
  /**
   * `name=url,...`: this member under its name, the others under temporary
   * names `0`, `1`, … in answer order (their real names arrive when they
   * publish them, as in etcd).
   */
  readonly initialCluster: string;
  /**
   * This member's peer URLs as the records spell them: each advertised URL
   * that a record matched, replaced by that record's URL. The member id is
   * hashed from these (spec §1), the same way every other member hashes it.
   */
  readonly peerUrls: string[];
}

/** `_<service>[-<suffix>]._tcp.<domain>`, the record names of spec §4.1. */
export function srvRecordName(service: string, suffix: string, domain: string): string {
  return `_${service}${suffix === "" ? "" : `-${suffix}`}._tcp.${domain}`;
}

/** Go's `net.JoinHostPort`. */
function joinHostPort(host: string, port: number | string): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * The addresses of `host`: an IP literal is its own address (an IPv6 one in
 * the canonical form resolvers print, so `0:0::1` meets `::1`).
 */
async function addressesOf(resolver: DnsResolver, host: string): Promise<string[]> {
  if (!isIpAddress(host)) return resolver.resolveAddresses(host);
  return [host.includes(":") ? new URL(`http://[${host}]/`).hostname.slice(1, -1) : host];
}

/**
 * Looks up the server records of `domain` and builds the initial cluster
 * (spec §4.2). Throws {@link SrvError}: `LOOKUP_FAILED` when neither record
 * set can be read, `RESOLVE_FAILED` when an own advertised host (or every
 * target) does not resolve, `NOT_IN_RECORDS` when no record is this member
 * (a record with this member's address but the other scheme is logged as a
 * scheme mismatch and does not count, as in etcd).
 */
export async function clusterFromSrv(options: SrvBootstrapOptions): Promise<SrvCluster> {
  const { resolver, name } = options;
  const log = options.logger ?? silentLogger;

  // Step 1: every own advertised peer URL as resolved "address:port" keys.
  const own = new Map<string, { url: string; scheme: string }>();
  for (const url of options.advertisePeerUrls) {
    const checked = checkUrl(url);
    let addresses: string[];
    try {
      addresses = await addressesOf(resolver, checked.host);
    } catch (error) {
      if (!(error instanceof DnsLookupError)) throw error;
      throw new SrvError("RESOLVE_FAILED", error.message, { cause: error });
    }
    for (const a of addresses) {
      own.set(joinHostPort(a, checked.port), { url: checked.href, scheme: checked.scheme });
    }
  }

  // Step 2: the https records first, then the http ones, as etcd queries them.
  const entries: string[] = [];
  const selfUrls = new Map<string, string>();
  const lookupErrors: string[] = [];
  let resolveError: DnsLookupError | undefined;
  let tempName = 0;
  for (const [service, scheme] of [
    ["etcd-server-ssl", "https"],
    ["etcd-server", "http"],
  ] as const) {
    const recordName = srvRecordName(service, options.suffix, options.domain);
    let answers: Awaited<ReturnType<DnsResolver["resolveSrv"]>>;
    try {
      answers = await resolver.resolveSrv(recordName);
    } catch (error) {
      if (!(error instanceof DnsLookupError)) throw error;
      const serviceName = recordName.slice(0, recordName.indexOf("._tcp."));
      lookupErrors.push(`error querying DNS SRV records for ${serviceName} ${error.message}`);
      log.debug("no DNS SRV records", { name: recordName, error: error.message });
      continue;
    }
    // Lower priority first (Go sorts SRV answers so; within a priority it
    // shuffles by weight, Cairn keeps the server's order: only the temporary
    // names depend on it).
    const ordered = answers
      .map((a, i) => ({ a, i }))
      .sort((x, y) => x.a.priority - y.a.priority || x.i - y.i)
      .map((x) => x.a);
    for (const answer of ordered) {
      let addresses: string[];
      try {
        addresses = await addressesOf(resolver, answer.target);
      } catch (error) {
        if (!(error instanceof DnsLookupError)) throw error;
        // etcd skips a target it cannot resolve (and reports it only if nothing resolved).
        log.warn("cannot resolve a DNS SRV target; skipping it", {
          target: answer.target,
          error: error.message,
        });
        resolveError ??= error;
        continue;
      }
      const url = `${scheme}://${joinHostPort(answer.target, answer.port)}`;
      const match = addresses
        .map((a) => own.get(joinHostPort(a, answer.port)))
        .find((m) => m !== undefined);
      if (match !== undefined && match.scheme !== scheme) {
        // Step 3: the entry is dropped; the member then fails step 4.
        log.error("bootstrap from DNS has a scheme mismatch", {
          error: `bootstrap at ${url} from DNS for ${recordName} has scheme mismatch with expected peer ${match.url}`,
        });
        continue;
      }
      const entryName = match === undefined ? String(tempName++) : name;
      if (match !== undefined) selfUrls.set(match.url, url);
      entries.push(`${entryName}=${url}`);
      log.info("got bootstrap from DNS for etcd-server", { node: `${entryName}=${url}` });
    }
  }

  if (entries.length === 0) {
    if (lookupErrors.length === 2) {
      throw new SrvError("LOOKUP_FAILED", lookupErrors.join(" and "));
    }
    if (resolveError !== undefined) {
      throw new SrvError("RESOLVE_FAILED", resolveError.message, { cause: resolveError });
    }
  }
  // Step 4.
  if (selfUrls.size === 0) {
    throw new SrvError(
      "NOT_IN_RECORDS",
      `cannot find local etcd member ${JSON.stringify(name)} in SRV records`,
    );
  }
  return {
    initialCluster: entries.join(","),
    peerUrls: options.advertisePeerUrls.map((u) => selfUrls.get(checkUrl(u).href) ?? u),
  };
}
