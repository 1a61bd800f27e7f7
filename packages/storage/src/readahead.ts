/**
 * Reading the log ahead of a restarting member's replay, on a worker thread
 * (Node with better-sqlite3 only; elsewhere there is no read-ahead and the
 * replay reads the log itself). The worker does the SQLite reads and the
 * checksums, which were about a third of a replay's time on the main thread.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { type LogEntry, unpackLogPage } from "./logpage.js";

/** What the worker is started with. @internal */
export interface ReadAheadRequest {
  readonly path: string;
  /** First and last index to read (inclusive). */
  readonly from: number;
  readonly to: number;
  readonly pageRows: number;
  /** Pages the worker may be ahead of the reader. */
  readonly window: number;
}

/** What the worker posts. @internal */
export type ReadAheadMessage =
  | { kind: "page"; first: number; head: string; data: Uint8Array }
  | { kind: "end" };

/** Pages the worker reads ahead (of 2,048 entries each). */
const WINDOW = 4;
const PAGE_ROWS = 2048;

/**
 * Checked entries of `[from, to]`, arriving in order from a worker thread.
 * The consumer asks with {@link take}; what it skips past is dropped.
 */
export class LogReadAhead {
  readonly #path: string;
  readonly #worker: Worker;
  /** Arrived pages not yet passed, oldest first. */
  readonly #pages: LogEntry[][] = [];
  /** The next index the worker will deliver. */
  #next: number;
  readonly #to: number;
  /** No more pages will come (the worker finished, failed or was stopped). */
  #finished = false;
  #arrived: (() => void)[] = [];

  private constructor(path: string, worker: Worker, from: number, to: number) {
    this.#path = path;
    this.#worker = worker;
    this.#next = from;
    this.#to = to;
    worker.unref(); // never keeps the process alive
    worker.on("message", (m: ReadAheadMessage) => {
      if (m.kind === "page" && !this.#finished && m.first === this.#next) {
        // The worker checked every entry; only the header is read again here.
        const entries = unpackLogPage(this.#path, m.first, m.head, m.data, false);
        this.#pages.push(entries);
        this.#next += entries.length;
        this.#wake();
      } else {
        this.#finish();
      }
    });
    worker.on("error", () => this.#finish());
    worker.on("exit", () => this.#finish());
  }

  /**
   * Starts reading `[from, to]` of the log in `path`, or returns undefined
   * where there is no read-ahead (not Node, or the worker is not built).
   */
  static start(path: string, from: number, to: number): LogReadAhead | undefined {
    const g = globalThis as { Bun?: unknown; Deno?: unknown };
    if (g.Bun !== undefined || g.Deno !== undefined || from > to) return undefined;
    const script = new URL("./readahead-worker.js", import.meta.url);
    if (!existsSync(fileURLToPath(script))) return undefined; // running from sources
    const request: ReadAheadRequest = { path, from, to, pageRows: PAGE_ROWS, window: WINDOW };
    return new LogReadAhead(path, new Worker(script, { workerData: request }), from, to);
  }

  /** True while `index` is still to come (then wait with {@link arrival}). */
  pending(index: number): boolean {
    return !this.#finished && index >= this.#next && index <= this.#to;
  }

  /** Resolves when another page arrives or the read-ahead ends. */
  arrival(): Promise<void> {
    return new Promise((resolve) => this.#arrived.push(resolve));
  }

  /**
   * Arrived entries from `lo` (below `hi`, within `maxBytes` of data but at
   * least one), or undefined when `lo` has not arrived. Earlier pages are
   * dropped (the worker may then read further).
   */
  take(lo: number, hi: number, maxBytes: number): LogEntry[] | undefined {
    while (this.#pages.length > 0) {
      const page = this.#pages[0]!;
      if (lo <= page[page.length - 1]!.index) break;
      this.#pages.shift();
      if (!this.#finished) this.#worker.postMessage("more");
    }
    const first = this.#pages[0]?.[0]?.index;
    if (first === undefined || lo < first) return undefined;
    const out: LogEntry[] = [];
    let bytes = 0;
    let index = lo;
    for (const page of this.#pages) {
      for (let i = index - page[0]!.index; i < page.length && index < hi; i++, index++) {
        const entry = page[i]!;
        bytes += entry.data.byteLength;
        if (out.length > 0 && bytes > maxBytes) return out;
        out.push(entry);
      }
    }
    return out;
  }

  /** Stops the worker and drops what arrived. Idempotent. */
  close(): void {
    this.#pages.length = 0;
    this.#finish();
  }

  /** No more pages: what arrived stays to be taken. */
  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    void this.#worker.terminate();
    this.#wake();
  }

  #wake(): void {
    const waiting = this.#arrived;
    this.#arrived = [];
    for (const resolve of waiting) resolve();
  }
}
