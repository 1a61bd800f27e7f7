import {
  CompactedError,
  type Entry,
  type EntryType,
  type InitialState,
  type LogView,
  type Snapshot,
  UnavailableError,
} from "@cairn/raft";
import { LogCompactedError, LogUnavailableError, type RaftStorage } from "@cairn/storage";

const EMPTY = new Uint8Array(0);
/** Most recent entries kept in memory (they are what apply and replication read). */
const TAIL_ENTRIES = 4096;

/**
 * Shows the SQLite raft log to the raft core as its read-only `LogView`.
 * Snapshot data is left out on purpose: a snapshot can be large, so the
 * member streams it from storage when it sends one, instead of raft holding
 * it in memory.
 *
 * The entries the member last persisted are kept in memory too (told by
 * {@link remember}), so applying committed entries and replicating recent
 * ones read no rows back from SQLite.
 */
export class StorageLogView implements LogView {
  /** Consecutive entries ending at the storage's last index (or empty). */
  #tail: Entry[] = [];

  constructor(private readonly storage: RaftStorage) {}

  /**
   * Records entries just appended to storage: from their first index on
   * they replace what the tail held, as the append replaced the log.
   */
  remember(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = entries[0]!.index;
    const tailFirst = this.#tail[0]?.index;
    if (tailFirst === undefined || first < tailFirst || first > tailFirst + this.#tail.length) {
      this.#tail = entries.slice();
    } else {
      this.#tail.length = first - tailFirst;
      for (const e of entries) this.#tail.push(e);
    }
    if (this.#tail.length > TAIL_ENTRIES) this.#tail = this.#tail.slice(-(TAIL_ENTRIES / 2));
  }

  /** Drops the in-memory tail (the log was replaced, e.g. by a snapshot). */
  forget(): void {
    this.#tail = [];
  }

  /** The tail position of `index`, when the tail holds it and storage still does. */
  #inTail(index: number): number | undefined {
    const first = this.#tail[0]?.index;
    if (first === undefined || index < first || index >= first + this.#tail.length)
      return undefined;
    if (index < this.storage.firstIndex() || this.storage.lastIndex() !== this.#tailLast()) {
      return undefined;
    }
    return index - first;
  }

  #tailLast(): number {
    return this.#tail[this.#tail.length - 1]?.index ?? 0;
  }

  initialState(): InitialState {
    const { hardState, confState } = this.storage.initialState();
    return {
      hardState,
      confState: { voters: [...confState.voters], learners: [...confState.learners] },
    };
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    const at = lo < hi ? this.#inTail(lo) : undefined;
    if (at !== undefined && this.#inTail(hi - 1) !== undefined) {
      // Cut as storage cuts: by data bytes, never empty.
      const out: Entry[] = [];
      let bytes = 0;
      for (let i = at; i < at + (hi - lo); i++) {
        const entry = this.#tail[i]!;
        bytes += entry.data.byteLength;
        if (out.length > 0 && bytes > maxBytes) break;
        out.push(entry);
      }
      return out;
    }
    try {
      return this.storage.entries(lo, hi, maxBytes) as Entry[];
    } catch (error) {
      if (error instanceof LogCompactedError)
        throw new CompactedError(error.message, { cause: error });
      if (error instanceof LogUnavailableError)
        throw new UnavailableError(error.message, { cause: error });
      throw error;
    }
  }

  term(index: number): number {
    const at = this.#inTail(index);
    if (at !== undefined) return this.#tail[at]!.term;
    try {
      return this.storage.term(index);
    } catch (error) {
      if (error instanceof LogCompactedError)
        throw new CompactedError(error.message, { cause: error });
      if (error instanceof LogUnavailableError)
        throw new UnavailableError(error.message, { cause: error });
      throw error;
    }
  }

  firstIndex(): number {
    return this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.storage.lastIndex();
  }

  snapshot(): Snapshot {
    const meta = this.storage.snapshot();
    return {
      metadata: {
        index: meta.index,
        term: meta.term,
        confState: { voters: [...meta.confState.voters], learners: [...meta.confState.learners] },
      },
      data: EMPTY,
    };
  }
}

/** The entry type numbers shared by raft and storage. */
export type { EntryType };
