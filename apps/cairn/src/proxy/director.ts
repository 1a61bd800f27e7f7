/**
 * Which cluster client URLs the v2 proxy forwards to, as etcd 3.4's
 * `proxy/httpproxy` director keeps them: refreshed every refresh interval
 * (every second instead while none is known and the interval is the default
 * 30 s or longer), shuffled on each refresh so clients spread over the
 * members, and an endpoint that failed a request is left out for the
 * failure wait before it is tried again.
 */
import type { Logger } from "../log/index.js";

/** etcd's default refresh interval; at or above it, an empty list is retried every second. */
const DEFAULT_REFRESH_MS = 30_000;

interface Endpoint {
  readonly url: string;
  available: boolean;
}

/** What a {@link Director} needs. */
export interface DirectorOptions {
  /** The cluster's client URLs now (an empty list when the cluster cannot be asked). */
  readonly urls: () => Promise<string[]>;
  /** How long a failed endpoint stays out (`--proxy-failure-wait`). */
  readonly failureWaitMs: number;
  /** How often the URLs are asked again (`--proxy-refresh-interval`). */
  readonly refreshIntervalMs: number;
  readonly logger: Logger;
  /** Randomness for the shuffle (default Math.random). */
  readonly random?: () => number;
}

/** The proxy's current view of the cluster's client URLs. */
export class Director {
  readonly #options: DirectorOptions;
  #endpoints: Endpoint[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #failTimers = new Set<ReturnType<typeof setTimeout>>();
  #stopped = false;
  #announced = false;

  constructor(options: DirectorOptions) {
    this.#options = options;
  }

  /** The first refresh, then refreshes on the interval until {@link stop}. */
  async start(): Promise<void> {
    await this.refresh();
    this.#schedule();
  }

  /** Asks for the URLs again and replaces the endpoint list (shuffled, all available). */
  async refresh(): Promise<void> {
    const urls = await this.#options.urls();
    const endpoints = urls.map((url) => ({ url, available: true }));
    // Fisher–Yates, so connections are not stuck to one member.
    const random = this.#options.random ?? Math.random;
    for (let i = endpoints.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [endpoints[i], endpoints[j]] = [endpoints[j]!, endpoints[i]!];
    }
    this.#endpoints = endpoints;
    if (!this.#announced && endpoints.length > 0) {
      this.#announced = true;
      this.#options.logger.info("endpoints found", { endpoints: urls });
    }
  }

  /** The endpoints to try, in order: the available ones. */
  endpoints(): string[] {
    return this.#endpoints.filter((e) => e.available).map((e) => e.url);
  }

  /** Leaves `url` out for the failure wait (a request to it failed). */
  failed(url: string): void {
    const endpoint = this.#endpoints.find((e) => e.url === url && e.available);
    if (endpoint === undefined) return;
    endpoint.available = false;
    this.#options.logger.info("marked endpoint unavailable", { endpoint: url });
    const timer = setTimeout(() => {
      this.#failTimers.delete(timer);
      endpoint.available = true;
      this.#options.logger.info("marked endpoint available, to retest connectivity", {
        endpoint: url,
      });
    }, this.#options.failureWaitMs);
    this.#failTimers.add(timer);
  }

  /** Stops refreshing. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    for (const t of this.#failTimers) clearTimeout(t);
    this.#failTimers.clear();
  }

  #schedule(): void {
    if (this.#stopped) return;
    let wait = this.#options.refreshIntervalMs;
    if (wait >= DEFAULT_REFRESH_MS && this.endpoints().length === 0) wait = 1_000;
    this.#timer = setTimeout(() => {
      void this.refresh()
        .catch((error: unknown) => {
          this.#options.logger.warn("proxy failed to refresh endpoints", {
            error: error instanceof Error ? error.message : String(error),
          });
        })
        .finally(() => this.#schedule());
    }, wait);
  }
}
