/**
 * The workload every suite shares (v2 keys under `/bench/`, 256-byte values,
 * 10,000 keys) and Node's side of driving it: an exact-count writer that
 * fills a store, and a fixed-duration generator used when wrk is not
 * available. Both keep one request in flight per kept-alive connection.
 */
import { HttpConnection } from "./http.js";
import { LatencyHistogram } from "./stats.js";

/** Bytes in every value written (the workload). */
export const VALUE_SIZE = 256;
/** Distinct keys of the throughput figures. */
export const KEY_COUNT = 10_000;
/** Key `i` is `${KEY_PREFIX}${i}`. */
export const KEY_PREFIX = "/v2/keys/bench/k";

/** A value of `size` URL-safe characters, the same on every run and for both systems. */
export function benchValue(size = VALUE_SIZE): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  let v = "";
  for (let i = 0; i < size; i++) v += alphabet[(i * 7 + 3) % alphabet.length];
  return v;
}

/** What a request mix does. */
export type LoadMode = "put" | "get" | "qget" | "mix";

/** The outcome of one fixed-duration load run, whichever generator drove it. */
export interface LoadResult {
  readonly requests: number;
  readonly durationSec: number;
  /** Completed requests per second. */
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Non-2xx responses, connection errors and timeouts. */
  readonly errors: number;
  /** CPU the generator itself used, in cores (of `os.cpus().length`). */
  readonly generatorCores: number;
}

/** Options of {@link writeKeys}. */
export interface WriteKeysOptions {
  /** Client URLs to spread the connections over. */
  readonly urls: readonly string[];
  /** Total writes. */
  readonly writes: number;
  /** Write `i` goes to key `i % keys`. */
  readonly keys: number;
  readonly connections?: number;
  readonly prefix?: string;
  readonly value?: string;
  /** Progress lines (every 10% for large loads). */
  readonly log?: (line: string) => void;
}

/** A write was refused: the store is not in the state the figure assumes. */
export class LoadError extends Error {
  override readonly name = "LoadError";
  readonly code = "BENCH_LOAD";
}

/**
 * Performs exactly `writes` v2 PUTs, `connections` at a time, and resolves
 * with the writes per second achieved. Any non-2xx answer stops the load.
 */
export async function writeKeys(options: WriteKeysOptions): Promise<number> {
  const connections = Math.min(options.connections ?? 64, options.writes);
  const prefix = options.prefix ?? KEY_PREFIX;
  const body = `value=${options.value ?? benchValue()}`;
  const conns = await Promise.all(
    Array.from({ length: connections }, (_, i) =>
      HttpConnection.open(options.urls[i % options.urls.length]!),
    ),
  );
  let next = 0;
  let done = 0;
  const step =
    options.writes >= 100_000 ? Math.ceil(options.writes / 10) : Number.POSITIVE_INFINITY;
  let nextReport = step;
  const t0 = performance.now();
  try {
    await Promise.all(
      conns.map(async (conn) => {
        while (next < options.writes) {
          const i = next++;
          const res = await conn.send(conn.format("PUT", `${prefix}${i % options.keys}`, body));
          if (res.status !== 200 && res.status !== 201) {
            throw new LoadError(
              `PUT ${prefix}${i % options.keys}: ${res.status} ${res.body.toString()}`,
            );
          }
          done++;
          if (done >= nextReport) {
            nextReport += step;
            const rate = Math.round(done / ((performance.now() - t0) / 1000));
            options.log?.(
              `  … ${done.toLocaleString("en")} writes (${rate.toLocaleString("en")}/s)`,
            );
          }
        }
      }),
    );
  } finally {
    for (const c of conns) c.close();
  }
  return options.writes / ((performance.now() - t0) / 1000);
}

/** Options of {@link nodeLoad}. */
export interface NodeLoadOptions {
  readonly url: string;
  readonly mode: LoadMode;
  readonly connections: number;
  readonly durationSec: number;
  readonly keys?: number;
}

/**
 * Drives `mode` against `url` for a fixed duration from this process (the
 * fallback generator). Its CPU is this process's CPU over the run.
 */
export async function nodeLoad(options: NodeLoadOptions): Promise<LoadResult> {
  const keys = options.keys ?? KEY_COUNT;
  const body = `value=${benchValue()}`;
  const conns = await Promise.all(
    Array.from({ length: options.connections }, () => HttpConnection.open(options.url)),
  );
  const hist = new LatencyHistogram();
  let requests = 0;
  let errors = 0;
  let counter = Math.floor(Math.random() * keys);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const end = t0 + options.durationSec * 1000;
  try {
    await Promise.all(
      conns.map(async (conn) => {
        while (performance.now() < end) {
          counter = (counter + 1) % keys;
          const path = `${KEY_PREFIX}${counter}`;
          const write = options.mode === "put" || (options.mode === "mix" && Math.random() >= 0.9);
          const req = write
            ? conn.format("PUT", path, body)
            : conn.format("GET", options.mode === "qget" ? `${path}?quorum=true` : path);
          const s = performance.now();
          try {
            const res = await conn.send(req);
            if (res.status >= 300) errors++;
          } catch {
            errors++;
            return;
          }
          hist.record((performance.now() - s) * 1000);
          requests++;
        }
      }),
    );
  } finally {
    for (const c of conns) c.close();
  }
  const durationSec = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return {
    requests,
    durationSec,
    rps: requests / durationSec,
    p50Ms: hist.percentile(50) / 1000,
    p99Ms: hist.percentile(99) / 1000,
    errors,
    generatorCores: (cpu.user + cpu.system) / 1e6 / durationSec,
  };
}
