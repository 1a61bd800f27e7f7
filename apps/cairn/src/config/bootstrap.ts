/**
 * The bootstrap membership rules (spec bootstrap.md §2): `--initial-cluster`
 * must name this member with exactly its advertised peer URLs, no peer URL
 * may appear twice, and `existing` does not mix with discovery. etcd checks
 * these only when the data directory is empty (a restarted member ignores
 * every `--initial-*` flag), so they are separate from `parseConfig`.
 */
import { ConfigError } from "./errors.js";
import type { Config } from "./parse.js";
import { checkUrl, UrlSyntaxError } from "./urls.js";

/** A parsed initial cluster: member name -> its peer URLs, sorted. */
export type InitialClusterMap = Map<string, string[]>;

/**
 * Parses `name=url[,name=url...]` like etcd's `types.NewURLsMap`: empty items
 * are skipped, a name may repeat (one entry per URL), every URL is checked.
 * Names come back sorted, and each name's URLs sorted, as etcd orders them.
 */
export function parseInitialClusterStrict(text: string): InitialClusterMap {
  const raw = new Map<string, string[]>();
  for (const item of text.split(",")) {
    if (item === "") continue;
    const eq = item.indexOf("=");
    const name = eq < 0 ? item : item.slice(0, eq);
    const url = eq < 0 ? "" : item.slice(eq + 1);
    raw.set(name, [...(raw.get(name) ?? []), url]);
  }
  const map: InitialClusterMap = new Map();
  for (const name of [...raw.keys()].sort()) {
    try {
      map.set(name, (raw.get(name) ?? []).map((u) => checkUrl(u).href).sort());
    } catch (error) {
      if (!(error instanceof UrlSyntaxError)) throw error;
      throw new ConfigError(
        "INVALID_BOOTSTRAP",
        `error setting up initial cluster: ${error.message}`,
        {
          flag: "initial-cluster",
          cause: error,
        },
      );
    }
  }
  return map;
}

/** etcd's `URLsMap.String()`: `name=url` for every URL, names sorted, joined by commas. */
export function formatInitialCluster(map: InitialClusterMap): string {
  return [...map.keys()]
    .sort()
    .flatMap((name) => (map.get(name) ?? []).map((url) => `${name}=${url}`))
    .join(",");
}

/** Go's `%q` of a `[]string`: `["a" "b"]`. */
function goQuoteList(list: readonly string[]): string {
  return `[${list.map((s) => JSON.stringify(s)).join(" ")}]`;
}

/**
 * etcd's `advertiseMatchesCluster`, comparing URL strings. (etcd also
 * resolves host names through DNS before comparing, so it would accept
 * `localhost` against `127.0.0.1`; Cairn compares the strings as written.)
 */
function checkAdvertiseMatches(name: string, cluster: InitialClusterMap, advertised: string[]) {
  const fromCluster = [...(cluster.get(name) ?? [])].sort();
  const apurls = [...advertised].sort();
  let detail: string | undefined;
  if (apurls.length !== fromCluster.length) {
    detail = `len(${goQuoteList(apurls)}) != len(${goQuoteList(fromCluster)})`;
  } else {
    const i = apurls.findIndex((url, k) => url !== fromCluster[k]);
    if (i >= 0)
      detail = `resolved urls: ${JSON.stringify(apurls[i])} != ${JSON.stringify(fromCluster[i])}`;
  }
  if (detail === undefined) return;
  const apSet = new Set(apurls);
  const clusterSet = new Set(fromCluster);
  const own = formatInitialCluster(new Map([[name, apurls]]));
  const missingFromAdvertised = [...clusterSet].filter((u) => !apSet.has(u));
  if (missingFromAdvertised.length > 0) {
    throw new ConfigError(
      "INVALID_BOOTSTRAP",
      `--initial-cluster has ${missingFromAdvertised.map((u) => `${name}=${u}`).join(",")} but missing from --initial-advertise-peer-urls=${apurls.join(",")} (${detail})`,
      { flag: "initial-cluster" },
    );
  }
  const missingFromCluster = [...apSet].filter((u) => !clusterSet.has(u));
  if (missingFromCluster.length > 0) {
    throw new ConfigError(
      "INVALID_BOOTSTRAP",
      `--initial-advertise-peer-urls has ${missingFromCluster.join(",")} but missing from --initial-cluster=${own}`,
      { flag: "initial-advertise-peer-urls" },
    );
  }
  throw new ConfigError(
    "INVALID_BOOTSTRAP",
    `failed to resolve ${apurls.join(",")} to match --initial-cluster=${own} (${detail})`,
    { flag: "initial-advertise-peer-urls" },
  );
}

/**
 * Checks the initial cluster of a member that has no data yet, with etcd's
 * rules and messages (`VerifyBootstrap` for `new`, `VerifyJoinExisting` for
 * `existing`), and returns it. `initialCluster` defaults to the flag; the
 * discovery and DNS SRV bootstraps pass the cluster they found instead.
 */
export function checkBootstrap(
  config: Config,
  initialCluster: string = config.initialCluster,
): InitialClusterMap {
  const cluster = parseInitialClusterStrict(initialCluster);
  if (!cluster.has(config.name)) {
    throw new ConfigError(
      "INVALID_BOOTSTRAP",
      `couldn't find local name ${JSON.stringify(config.name)} in the initial cluster configuration`,
      { flag: "initial-cluster" },
    );
  }
  if (config.initialClusterState === "new") {
    checkAdvertiseMatches(config.name, cluster, config.initialAdvertisePeerUrls);
  }
  const seen = new Set<string>();
  for (const urls of cluster.values()) {
    for (const url of urls) {
      if (seen.has(url)) {
        throw new ConfigError(
          "INVALID_BOOTSTRAP",
          `initial cluster ${formatInitialCluster(cluster)} has duplicate url`,
          { flag: "initial-cluster" },
        );
      }
      seen.add(url);
    }
  }
  if (config.initialClusterState === "existing" && config.discovery !== "") {
    throw new ConfigError(
      "INVALID_BOOTSTRAP",
      "discovery URL should not be set when joining existing initial cluster",
      { flag: "discovery" },
    );
  }
  return cluster;
}
