import type { Client } from "./client.js";
import { decodeKeysResponse, EmptyBodyError } from "./client.js";
import { keysUrl } from "./encoding.js";
import { ClientAbortedError, ClusterUnavailableError } from "./errors.js";
import type { KeysResponse } from "./types.js";

/** Options of {@link Client.watch}. */
export interface WatchOptions {
  /** Also report changes below the key (a directory's subtree). */
  readonly recursive?: boolean;
  /**
   * Start after this index: the first event reported has an index greater
   * than `afterIndex` (`waitIndex = afterIndex + 1`), so a read at index N
   * followed by a watch with `afterIndex: N` misses nothing. Default: only
   * changes after the watch starts.
   */
  readonly afterIndex?: number;
  /** Stop the watch; a pending `next()` then rejects with {@link ClientAbortedError}. */
  readonly signal?: AbortSignal;
  /**
   * Keep retrying when every endpoint is unreachable (a restart, a cut
   * connection), resuming from the same index, for at most this many ms
   * without any endpoint answering. Default: forever. 0: give up at once
   * with the {@link ClusterUnavailableError} (etcdctl's behaviour).
   */
  readonly reconnectTimeoutMs?: number;
  /** Called before each reconnect attempt with the error that caused it. */
  readonly onReconnect?: (error: ClusterUnavailableError, attempt: number) => void;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * A watch as an async iterator: `for await (const event of client.watch(k))`.
 *
 * Each step is one long poll `GET …?wait=true&waitIndex=W`. After an event at
 * index I the next poll asks for `W = I + 1`, so when a connection drops (or
 * the member restarts, or the pinned member dies and another endpoint takes
 * over) the watch resumes exactly where it was: no event is lost and none is
 * reported twice, as long as the server still has it in its history.
 *
 * When it does not (etcd keeps the last 1000 events), the iterator rejects
 * with {@link EventIndexClearedError} (v2 error 401). The documented recovery:
 * read the current state with `get` (recursive for a directory), then start a
 * new watch with `afterIndex` = that response's `index`.
 */
export class Watcher implements AsyncIterableIterator<KeysResponse> {
  readonly #client: Client;
  readonly #key: string;
  readonly #recursive: boolean;
  readonly #reconnectTimeoutMs: number;
  readonly #onReconnect: WatchOptions["onReconnect"];
  readonly #stop = new AbortController();
  #nextWait: number;
  #done = false;

  constructor(client: Client, key: string, options: WatchOptions = {}) {
    this.#client = client;
    this.#key = key;
    this.#recursive = options.recursive ?? false;
    this.#nextWait =
      options.afterIndex !== undefined && options.afterIndex > 0 ? options.afterIndex + 1 : 0;
    this.#reconnectTimeoutMs = options.reconnectTimeoutMs ?? Number.POSITIVE_INFINITY;
    this.#onReconnect = options.onReconnect;
    const outer = options.signal;
    if (outer !== undefined) {
      if (outer.aborted) this.#stop.abort(outer.reason);
      else outer.addEventListener("abort", () => this.#stop.abort(outer.reason), { once: true });
    }
  }

  /** The `waitIndex` the next poll will use (0: "from now"). */
  get nextIndex(): number {
    return this.#nextWait;
  }

  /** Waits for the next matching event. */
  async next(): Promise<IteratorResult<KeysResponse, undefined>> {
    if (this.#done) return { done: true, value: undefined };
    let failingSince: number | undefined;
    let attempt = 0;
    for (;;) {
      if (this.#stop.signal.aborted) {
        this.#done = true;
        throw new ClientAbortedError(this.#stop.signal.reason);
      }
      const query = {
        recursive: String(this.#recursive),
        wait: "true",
        waitIndex: String(this.#nextWait),
      };
      try {
        const raw = await this.#client.request(
          { method: "GET", url: (ep) => keysUrl(ep, this.#key, query) },
          { signal: this.#stop.signal, timeoutMs: 0 },
        );
        const event = decodeKeysResponse(raw);
        this.#nextWait = event.node.modifiedIndex + 1;
        return { done: false, value: event };
      } catch (error) {
        if (error instanceof EmptyBodyError) {
          // The server ended the poll without an event (it is shutting down): ask again.
          continue;
        }
        if (error instanceof ClusterUnavailableError && !this.#stop.signal.aborted) {
          const now = Date.now();
          // A poll that was answered and cut later (a dropped connection, a client-side body
          // timeout of the runtime's fetch) means an endpoint was reachable: resume at once.
          if (error.errors.some((e) => e.answered)) {
            failingSince = undefined;
            attempt = 0;
            this.#onReconnect?.(error, 0);
            await sleep(25, this.#stop.signal); // never a busy loop against a flapping server
            continue;
          }
          failingSince ??= now;
          if (now - failingSince >= this.#reconnectTimeoutMs) {
            this.#done = true;
            throw error;
          }
          attempt++;
          this.#onReconnect?.(error, attempt);
          await sleep(Math.min(1_000, 25 * 2 ** Math.min(attempt, 6)), this.#stop.signal);
          continue;
        }
        this.#done = true;
        throw error;
      }
    }
  }

  /** Stops the watch (also called by `break` in a `for await`). */
  async return(): Promise<IteratorResult<KeysResponse, undefined>> {
    this.close();
    return { done: true, value: undefined };
  }

  /** Stops the watch and aborts the pending poll. */
  close(): void {
    this.#done = true;
    this.#stop.abort(new ClientAbortedError());
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
