/**
 * The member side of bootstrap by discovery URL (spec bootstrap.md §3): a
 * client of the subset of etcd's v2 keys API a discovery service serves,
 * sending exactly the requests an etcd 3.4.23 member sends (§3.3), on
 * Web-standard `fetch` only.
 */
import { z } from "zod";
import { formatInitialCluster, parseInitialClusterStrict } from "../config/index.js";
import { type Logger, silentLogger } from "../log/index.js";
import { DiscoveryError } from "./errors.js";

/** etcd's v2 client request timeout for every non-watch request (§3.3). */
export const REQUEST_TIMEOUT_MS = 5_000;
/** Backoff stops doubling after 2^8 units (etcd's `maxExpoentialRetries`, §3.5). */
export const MAX_BACKOFF_EXPONENT = 8;
/** The query every plain GET carries, as etcd's v2 client sends it (§3.3). */
const GET_QUERY = "quorum=false&recursive=false&sorted=false";

/** What {@link joinCluster} needs. */
export interface JoinOptions {
  /** The discovery URL exactly as given to `--discovery` (it is also the cluster token, §1). */
  readonly discoveryUrl: string;
  /** This member's id, `computeMemberId(peerUrls, discoveryUrl)`. */
  readonly id: bigint;
  /** This member's name (`--name`). */
  readonly name: string;
  /** This member's advertised peer URLs (`--initial-advertise-peer-urls`). */
  readonly peerUrls: readonly string[];
  /** The fetch to use (default: the global one). */
  readonly fetch?: typeof fetch;
  /** Waits `ms` between retries (default: a timer). Tests inject one that records. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** One backoff unit (default 1000 ms: etcd waits 2^n seconds). */
  readonly backoffUnitMs?: number;
  /** Bound on each non-watch request (default {@link REQUEST_TIMEOUT_MS}). */
  readonly requestTimeoutMs?: number;
  readonly logger?: Logger;
}

/** One registration under the token directory. */
type Registration = z.infer<typeof NodeSchema>;

/** A v2 reply that parsed as an event. */
interface EventReply {
  readonly node: z.infer<typeof EventSchema>["node"];
  /** `X-Etcd-Index` of the answer (0 when absent). */
  readonly index: number;
}

/**
 * A failure etcd's v2 client reports as a `ClusterError` (no answer, or a 5xx):
 * the steps that etcd retries retry on it. Cairn also counts a 429 (the
 * service's rate limit) and a request timeout as transient.
 */
class Unreachable extends Error {
  override readonly name = "Unreachable";
}

/** The last path element, as Go's `path.Base`. */
function base(key: string): string {
  const trimmed = key.replace(/\/+$/, "");
  return trimmed.slice(trimmed.lastIndexOf("/") + 1);
}

/**
 * The `--discovery-proxy` value as etcd reads it (`newProxyFunc`): a URL
 * whose scheme starts with `http`, else `http://` put in front (so bare
 * `host:port` works). Throws {@link DiscoveryError} `BAD_PROXY` when neither parses.
 */
export function discoveryProxyUrl(text: string): string {
  const parse = (t: string): URL | undefined => {
    try {
      return new URL(t);
    } catch {
      return undefined;
    }
  };
  const direct = parse(text);
  if (direct?.protocol.startsWith("http")) return direct.href;
  const prefixed = parse(`http://${text}`);
  if (prefixed !== undefined && prefixed.host !== "") return prefixed.href;
  throw new DiscoveryError("BAD_PROXY", `invalid proxy address ${JSON.stringify(text)}`);
}

/** The registration value: `name=url` per advertised peer URL, sorted, joined by commas (§3.2). */
export function registrationValue(name: string, peerUrls: readonly string[]): string {
  return formatInitialCluster(new Map([[name, [...peerUrls].sort()]]));
}

/**
 * The "full check" of spec §3.4 over registrations sorted by createdIndex:
 * true when `size` registrations precede this member's (or it is absent and
 * there are at least `size`).
 */
export function clusterIsFull(
  registrations: readonly { key: string }[],
  size: number,
  idHex: string,
): boolean {
  for (const [i, r] of registrations.entries()) {
    if (base(r.key) === idHex) return false;
    if (i >= size - 1) return true;
  }
  return false;
}

/**
 * The initial cluster from the first `size` registrations by createdIndex
 * (§3.3 step 7), with etcd's checks: every URL valid, `size` distinct names,
 * no peer URL twice.
 */
export function clusterFromRegistrations(
  registrations: readonly { value?: string | undefined; createdIndex: number }[],
  size: number,
): string {
  const first = [...registrations].sort((a, b) => a.createdIndex - b.createdIndex).slice(0, size);
  const text = first.map((r) => r.value ?? "").join(",");
  let map: Map<string, string[]>;
  try {
    map = parseInitialClusterStrict(text);
  } catch (error) {
    throw new DiscoveryError("INVALID_URL", "discovery: invalid URL", { cause: error });
  }
  if (map.size !== size)
    throw new DiscoveryError("DUPLICATE_NAME", "discovery: found duplicate name");
  const urls = [...map.values()].flat();
  if (new Set(urls).size !== urls.length) {
    throw new DiscoveryError(
      "DUPLICATE_URL",
      `discovery cluster ${formatInitialCluster(map)} has duplicate url`,
    );
  }
  return text;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Registers this member with the discovery service, waits until the cluster
 * has `size` members, and returns the initial cluster string
 * (`name=url,...`) to bootstrap a `new` cluster with (spec §3.3). Throws
 * {@link DiscoveryError}; `FULL_CLUSTER` means nothing was registered.
 * Connection failures while reading or watching retry forever with backoff
 * 2^n units capped at 2^8, as etcd does; the registration itself is not
 * retried (its answer may be lost after it took effect).
 */
export async function joinCluster(options: JoinOptions): Promise<string> {
  const client = new DiscoveryClient(options);
  return client.join();
}

/**
 * The cluster behind a discovery URL without registering (etcd's
 * `GetCluster`, used by a proxy, spec §3.4): the initial cluster string of
 * the first `size` registrations, waiting for the cluster to fill if it has
 * not yet. The same retries as {@link joinCluster}.
 */
export async function getCluster(
  options: Omit<JoinOptions, "id" | "name" | "peerUrls">,
): Promise<string> {
  // Id 0 is never registered, so the full check means "size registrations exist".
  const client = new DiscoveryClient({ ...options, id: 0n, name: "", peerUrls: [] });
  return client.cluster();
}

class DiscoveryClient {
  readonly #endpoint: string;
  /** The token directory's key path, the discovery URL's path verbatim (§3.1). */
  readonly #dir: string;
  readonly #idHex: string;
  readonly #value: string;
  readonly #fetch: typeof fetch;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #unitMs: number;
  readonly #timeoutMs: number;
  readonly #log: Logger;
  #retries = 0;
  /** False for {@link getCluster}: a full cluster is the answer, not an error. */
  #registering = true;

  constructor(options: JoinOptions) {
    let url: URL;
    try {
      url = new URL(options.discoveryUrl);
    } catch (error) {
      throw new DiscoveryError(
        "BAD_URL",
        `invalid discovery URL ${JSON.stringify(options.discoveryUrl)}`,
        {
          cause: error,
        },
      );
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new DiscoveryError(
        "BAD_URL",
        `invalid discovery URL ${JSON.stringify(options.discoveryUrl)}: want http or https`,
      );
    }
    this.#endpoint = url.origin;
    this.#dir = `/${url.pathname.replace(/^\/+|\/+$/g, "")}`;
    this.#idHex = options.id.toString(16);
    this.#value = registrationValue(options.name, options.peerUrls);
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#sleep = options.sleep ?? defaultSleep;
    this.#unitMs = options.backoffUnitMs ?? 1_000;
    this.#timeoutMs = options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
    this.#log = (options.logger ?? silentLogger).child({ "discovery-url": options.discoveryUrl });
  }

  async join(): Promise<string> {
    // Fast path: a full cluster is refused before registering (§3.4).
    await this.#checkCluster();
    const created = await this.#createSelf();
    await this.#confirm(created);
    const { registrations, size, index } = await this.#checkCluster();
    const all = await this.#waitNodes(registrations, size, index);
    return clusterFromRegistrations(all, size);
  }

  /** The first `size` registrations as an initial cluster, registering nothing. */
  async cluster(): Promise<string> {
    this.#registering = false;
    const { registrations, size, index } = await this.#checkCluster();
    if (registrations.length >= size) return clusterFromRegistrations(registrations, size);
    return clusterFromRegistrations(await this.#waitNodes(registrations, size, index), size);
  }

  /** Steps 1–2 (and 5): the size, the registrations, the full check (when registering). */
  async #checkCluster(): Promise<{ registrations: Registration[]; size: number; index: number }> {
    for (;;) {
      try {
        return await this.#checkClusterOnce();
      } catch (error) {
        if (!(error instanceof Unreachable)) throw error;
        await this.#backoff("cluster status check", error);
      }
    }
  }

  async #checkClusterOnce(): Promise<{
    registrations: Registration[];
    size: number;
    index: number;
  }> {
    const sizeReply = await this.#request("GET", `${this.#dir}/_config/size?${GET_QUERY}`, {
      badJson: new DiscoveryError("BAD_ENDPOINT", "discovery: bad discovery endpoint"),
    });
    const sizeText = sizeReply.node.value ?? "";
    // Go's strconv.Atoi: optional sign and decimal digits; a negative size parses in etcd too.
    if (!/^[+-]?\d+$/.test(sizeText) || !Number.isSafeInteger(Number(sizeText))) {
      throw new DiscoveryError("BAD_SIZE_KEY", "discovery: size key is bad");
    }
    const size = Number(sizeText);
    const list = await this.#request("GET", `${this.#dir}?${GET_QUERY}`);
    const registrations = (list.node.nodes ?? [])
      .filter((n) => base(n.key) !== "_config")
      .sort((a, b) => a.createdIndex - b.createdIndex);
    if (this.#registering && clusterIsFull(registrations, size, this.#idHex)) {
      throw new DiscoveryError("FULL_CLUSTER", "discovery: cluster is full");
    }
    return { registrations, size, index: list.index };
  }

  /** Step 3: the create-only registration. */
  async #createSelf(): Promise<number> {
    try {
      const reply = await this.#request("PUT", `${this.#dir}/${this.#idHex}?prevExist=false`, {
        body: new URLSearchParams({ value: this.#value }).toString(),
      });
      this.#log.info("registered with the discovery service", {
        id: this.#idHex,
        value: this.#value,
      });
      return reply.node.createdIndex;
    } catch (error) {
      if (error instanceof DiscoveryError && error.errorCode === 105) {
        throw new DiscoveryError("DUPLICATE_ID", "discovery: found duplicate id", { cause: error });
      }
      if (error instanceof Unreachable) {
        throw new DiscoveryError("UNAVAILABLE", error.message, { cause: error });
      }
      throw error;
    }
  }

  /** Step 4: a watch from our own index returns at once once the registration is visible. */
  async #confirm(createdIndex: number): Promise<void> {
    try {
      await this.#request(
        "GET",
        `${this.#dir}/${this.#idHex}?recursive=false&wait=true&waitIndex=${createdIndex}`,
        { watch: true },
      );
    } catch (error) {
      if (error instanceof Unreachable) {
        throw new DiscoveryError("UNAVAILABLE", error.message, { cause: error });
      }
      throw error;
    }
  }

  /** Step 6: watch the token directory until `size` registrations are known. */
  async #waitNodes(known: Registration[], size: number, index: number): Promise<Registration[]> {
    const all = known.slice(0, size);
    let waitIndex = index + 1;
    while (all.length < size) {
      this.#log.info("found peers from discovery server; waiting for more", {
        "found-peers": all.length,
        "needed-peers": size - all.length,
      });
      let event: EventReply;
      try {
        event = await this.#request(
          "GET",
          `${this.#dir}?recursive=true&wait=true&waitIndex=${waitIndex}`,
          {
            watch: true,
          },
        );
      } catch (error) {
        if (!(error instanceof Unreachable)) throw error;
        // etcd starts over from the cluster check after a failed watch.
        await this.#backoff("waiting for other nodes", error);
        const again = await this.#checkCluster();
        return this.#waitNodes(again.registrations, again.size, again.index);
      }
      this.#log.info("found peer from discovery server", { peer: base(event.node.key) });
      // Every event under the token is appended, whatever its action (§3.3 step 6).
      all.push(event.node);
      waitIndex = event.node.modifiedIndex + 1;
    }
    this.#log.info("found all needed peers from discovery server", { "found-peers": all.length });
    return all;
  }

  async #backoff(step: string, error: Error): Promise<void> {
    this.#retries++;
    const ms = 2 ** Math.min(this.#retries, MAX_BACKOFF_EXPONENT) * this.#unitMs;
    this.#log.info("retry connecting to discovery service", {
      reason: step,
      error: error.message,
      "backoff-ms": ms,
    });
    await this.#sleep(ms);
  }

  /**
   * One request to the service, answered as etcd's v2 keys client answers
   * it: 200/201 parse as an event, other statuses as a v2 error (raised as
   * `SERVICE_ERROR` with its code as `cause`), no answer or a 5xx is
   * {@link Unreachable}.
   */
  async #request(
    method: "GET" | "PUT",
    path: string,
    opts: { body?: string; watch?: boolean; badJson?: DiscoveryError } = {},
  ): Promise<EventReply> {
    for (;;) {
      const reply = await this.#requestOnce(method, path, opts);
      // A watch answered with an empty body was ended by the server without an
      // event (its watcher closed, e.g. on a restart); etcd's v2 watcher sends
      // the same watch again, and so does Cairn.
      if (reply !== "empty watch") return reply;
    }
  }

  async #requestOnce(
    method: "GET" | "PUT",
    path: string,
    opts: { body?: string; watch?: boolean; badJson?: DiscoveryError },
  ): Promise<EventReply | "empty watch"> {
    const url = `${this.#endpoint}${path}`;
    let res: Response;
    let text: string;
    try {
      const init: RequestInit = { method };
      if (opts.body !== undefined) {
        init.body = opts.body;
        init.headers = { "Content-Type": "application/x-www-form-urlencoded" };
      }
      // Watches never time out (§3.3); everything else has etcd's 5 s.
      if (opts.watch !== true) init.signal = AbortSignal.timeout(this.#timeoutMs);
      res = await this.#fetch(url, init);
      text = await res.text();
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      throw new Unreachable(`discovery service ${this.#endpoint} unreachable: ${detail}`, {
        cause: error,
      });
    }
    if (res.status >= 500 || res.status === 429) {
      throw new Unreachable(`discovery service ${this.#endpoint} answered ${res.status}`);
    }
    if (opts.watch === true && res.status === 200 && text === "") return "empty watch";
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (error) {
      throw (
        opts.badJson ??
        new DiscoveryError(
          "BAD_ENDPOINT",
          "client: response is invalid json. The endpoint is probably not valid etcd cluster endpoint.",
          { cause: error },
        )
      );
    }
    if (res.status === 200 || res.status === 201) {
      const event = EventSchema.safeParse(body);
      if (!event.success) {
        throw (
          opts.badJson ?? new DiscoveryError("BAD_ENDPOINT", "discovery: bad discovery endpoint")
        );
      }
      const index = Number(res.headers.get("X-Etcd-Index") ?? "0");
      return { node: event.data.node, index: Number.isFinite(index) ? index : 0 };
    }
    const parsed = V2ErrorSchema.safeParse(body);
    if (!parsed.success) {
      throw opts.badJson ?? new DiscoveryError("BAD_ENDPOINT", "discovery: bad discovery endpoint");
    }
    const v2 = parsed.data;
    // etcd's client.Error renders as `<code>: <message> (<cause>) [<index>]`.
    throw new DiscoveryError(
      "SERVICE_ERROR",
      `${v2.errorCode}: ${v2.message} (${v2.cause}) [${v2.index}]`,
      {
        errorCode: v2.errorCode,
      },
    );
  }
}

/** A node of a v2 answer, as far as discovery reads it. */
const NodeSchema = z.object({
  key: z.string(),
  value: z.string().optional(),
  createdIndex: z.number(),
  modifiedIndex: z.number(),
});

/** A v2 event (`{"action":…,"node":{…}}`); registrations are the directory's `nodes`. */
const EventSchema = z.object({
  node: NodeSchema.extend({ nodes: z.array(NodeSchema).optional() }),
});

/** A v2 error body (`{"errorCode":100,"message":…,"cause":…,"index":…}`). */
const V2ErrorSchema = z.object({
  errorCode: z.number(),
  message: z.string().default(""),
  cause: z.string().default(""),
  index: z.number().default(0),
});
