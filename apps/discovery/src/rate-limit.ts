/** Settings of {@link RateLimiter}. */
export interface RateLimitOptions {
  /** Sustained requests per second allowed per client address. */
  readonly perSecond: number;
  /** Requests a client may make at once after being idle (bucket size). */
  readonly burst: number;
}

/** Buckets kept before idle (full) ones are dropped. */
const PRUNE_ABOVE = 10_000;

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * A token bucket per client address. Pure: the caller passes the time, so
 * tests are exact. Memory stays bounded: once more than 10 000 addresses are
 * tracked, buckets that have refilled completely (idle clients) are dropped,
 * which changes nothing for them.
 */
export class RateLimiter {
  readonly #options: RateLimitOptions;
  readonly #buckets = new Map<string, Bucket>();

  constructor(options: RateLimitOptions) {
    if (!(options.perSecond > 0) || !(options.burst >= 1)) {
      throw new RangeError("rate limit needs perSecond > 0 and burst >= 1");
    }
    this.#options = options;
  }

  /**
   * Takes one request from `address`'s bucket at time `nowMs`. Returns 0 when
   * allowed, else the whole seconds until a request would be (`Retry-After`).
   */
  take(address: string, nowMs: number): number {
    const { perSecond, burst } = this.#options;
    let b = this.#buckets.get(address);
    if (b === undefined) {
      if (this.#buckets.size >= PRUNE_ABOVE) this.#prune(nowMs);
      b = { tokens: burst, at: nowMs };
      this.#buckets.set(address, b);
    } else {
      b.tokens = Math.min(burst, b.tokens + (Math.max(0, nowMs - b.at) * perSecond) / 1000);
      b.at = nowMs;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / perSecond));
  }

  /** Addresses currently tracked. */
  get size(): number {
    return this.#buckets.size;
  }

  #prune(nowMs: number): void {
    const { perSecond, burst } = this.#options;
    for (const [address, b] of this.#buckets) {
      if (b.tokens + (Math.max(0, nowMs - b.at) * perSecond) / 1000 >= burst) {
        this.#buckets.delete(address);
      }
    }
  }
}
