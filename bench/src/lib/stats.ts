/**
 * Small statistics over measured samples: percentiles of latencies, and the
 * median-with-spread that every figure is reported as (the issue asks for the
 * median of at least three runs with their spread, not a best-of).
 */

/** The `p`-th percentile (0..100) of `values` by nearest rank; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  // Nearest-rank: the smallest value with at least p% of the samples at or below it.
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** The median of `values` (mean of the middle two for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** How far a set of runs spread around their median. */
export interface Spread {
  readonly min: number;
  readonly max: number;
  /** (max − min) / median, in percent: how much to trust a ratio near 1. */
  readonly pct: number;
}

/** The spread of `values` around their median. */
export function spread(values: readonly number[]): Spread {
  if (values.length === 0) return { min: Number.NaN, max: Number.NaN, pct: Number.NaN };
  const min = Math.min(...values);
  const max = Math.max(...values);
  const mid = median(values);
  return {
    min: round(min, 3),
    max: round(max, 3),
    pct: mid === 0 ? 0 : round(((max - min) / mid) * 100, 1),
  };
}

/** Rounds to `digits` decimals (figures carry no false precision). */
export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/**
 * A latency recorder with fixed memory: microsecond buckets that grow
 * logarithmically (about 1% relative error), so a multi-second run at tens of
 * thousands of requests per second costs a few kilobytes, as in HdrHistogram.
 */
export class LatencyHistogram {
  // Bucket i covers [base^i, base^(i+1)) microseconds.
  private static readonly base = 1.01;
  private static readonly logBase = Math.log(LatencyHistogram.base);
  private readonly counts = new Map<number, number>();
  private total = 0;
  private maxUs = 0;

  /** Records one latency in microseconds. */
  record(us: number): void {
    const bucket = us <= 1 ? 0 : Math.floor(Math.log(us) / LatencyHistogram.logBase);
    this.counts.set(bucket, (this.counts.get(bucket) ?? 0) + 1);
    this.total++;
    if (us > this.maxUs) this.maxUs = us;
  }

  /** Number of recorded latencies. */
  get count(): number {
    return this.total;
  }

  /** The `p`-th percentile in microseconds (upper edge of its bucket, capped at the max). */
  percentile(p: number): number {
    if (this.total === 0) return Number.NaN;
    const target = Math.ceil((p / 100) * this.total);
    let seen = 0;
    for (const bucket of [...this.counts.keys()].sort((a, b) => a - b)) {
      seen += this.counts.get(bucket)!;
      if (seen >= target) return Math.min(this.maxUs, LatencyHistogram.base ** (bucket + 1));
    }
    return this.maxUs;
  }
}
