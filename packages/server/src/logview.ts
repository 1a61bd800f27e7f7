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

/**
 * Shows the SQLite raft log to the raft core as its read-only `LogView`.
 * Snapshot data is left out on purpose: a snapshot can be large, so the
 * member streams it from storage when it sends one, instead of raft holding
 * it in memory.
 */
export class StorageLogView implements LogView {
  constructor(private readonly storage: RaftStorage) {}

  initialState(): InitialState {
    const { hardState, confState } = this.storage.initialState();
    return {
      hardState,
      confState: { voters: [...confState.voters], learners: [...confState.learners] },
    };
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
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
