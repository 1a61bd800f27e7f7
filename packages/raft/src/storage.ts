import { sliceRange } from "./array.js";
import {
  CompactedError,
  RaftInvariantError,
  SnapshotOutOfDateError,
  UnavailableError,
} from "./errors.js";
import {
  type ConfState,
  type Entry,
  EntryType,
  emptySnapshot,
  type HardState,
  NONE,
  type Snapshot,
} from "./types.js";

/** The state a node starts from. */
export interface InitialState {
  hardState: HardState;
  /** The configuration as of the node's applied index (the snapshot's, unless told otherwise). */
  confState: ConfState;
}

/**
 * A read-only view of what the caller has persisted (the stable log, the hard state,
 * the last snapshot). Raft reads through it and never writes: the caller writes what
 * each `Ready` asks it to, then calls `advance`. Modelled on etcd-io/raft's `Storage`.
 *
 * Index conventions: the log holds entries `firstIndex()..lastIndex()`; the entry at
 * `firstIndex() - 1` is the last one folded into the snapshot, and `term()` must still
 * answer for it. An empty, never-compacted log has `firstIndex() = 1, lastIndex() = 0`.
 */
export interface LogView {
  /** The persisted hard state and configuration. Called once, when a node is created. */
  initialState(): InitialState;
  /**
   * Entries `[lo, hi)`, cut after `maxBytes` (by {@link entrySize}) but never empty when
   * `lo < hi`. Throws {@link CompactedError} below the first index, {@link UnavailableError}
   * past the last.
   */
  entries(lo: number, hi: number, maxBytes: number): Entry[];
  /** The term of the entry at `index`, for `firstIndex() - 1 <= index <= lastIndex()`. */
  term(index: number): number;
  /** The index of the first entry still in the log (snapshot index + 1). */
  firstIndex(): number;
  /** The index of the last entry in the log (the snapshot index when the log is empty). */
  lastIndex(): number;
  /** The latest snapshot; may throw `SnapshotTemporarilyUnavailableError`. */
  snapshot(): Snapshot;
}

/** The size an entry counts for in byte limits: its payload plus a fixed header. */
export function entrySize(e: Entry): number {
  return e.data.byteLength + 16;
}

/** Cuts `entries` after `maxBytes`, keeping at least the first one. */
export function limitSize(entries: Entry[], maxBytes: number): Entry[] {
  // Zero or one entry: nothing to cut (the first is always kept). The common case of
  // small batches skips the size computation.
  if (entries.length <= 1) return entries;
  let size = entrySize(entries[0]!);
  let n = 1;
  for (; n < entries.length; n++) {
    size += entrySize(entries[n]!);
    if (size > maxBytes) break;
  }
  return n === entries.length ? entries : entries.slice(0, n);
}

/**
 * An in-memory {@link LogView} with the writes a caller needs (append, set hard state,
 * install / create snapshot, compact). Used by the tests, the simulator and the
 * benchmark; a member adapts its SQLite storage to `LogView` instead.
 */
export class MemoryLogStorage implements LogView {
  private hard: HardState = { term: 0, vote: NONE, commit: 0 };
  private snap: Snapshot = emptySnapshot();
  /** ents[0] is a dummy standing for the snapshot's last entry (index and term only). */
  private ents: Entry[] = [{ index: 0, term: 0, type: EntryType.Normal, data: new Uint8Array(0) }];

  /** An empty storage; with `confState`, as if a snapshot at index 0 held that configuration. */
  constructor(confState?: ConfState) {
    if (confState !== undefined) {
      this.snap = {
        metadata: { index: 0, term: 0, confState: cloneConfState(confState) },
        data: new Uint8Array(0),
      };
    }
  }

  initialState(): InitialState {
    return { hardState: { ...this.hard }, confState: cloneConfState(this.snap.metadata.confState) };
  }

  /** The persisted hard state. */
  hardState(): HardState {
    return { term: this.hard.term, vote: this.hard.vote, commit: this.hard.commit };
  }

  /** Persists a hard state (from `Ready.hardState`). */
  setHardState(hs: HardState): void {
    this.hard = { term: hs.term, vote: hs.vote, commit: hs.commit };
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    const offset = this.ents[0]!.index;
    if (lo <= offset) throw new CompactedError();
    if (hi > this.lastIndex() + 1) {
      throw new UnavailableError(`entries hi ${hi} is past last index ${this.lastIndex()}`);
    }
    return limitSize(sliceRange(this.ents, lo - offset, hi - offset), maxBytes);
  }

  term(index: number): number {
    const offset = this.ents[0]!.index;
    if (index < offset) throw new CompactedError();
    const e = this.ents[index - offset];
    if (e === undefined) throw new UnavailableError();
    return e.term;
  }

  firstIndex(): number {
    return this.ents[0]!.index + 1;
  }

  lastIndex(): number {
    return this.ents[0]!.index + this.ents.length - 1;
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  /** Replaces everything with a snapshot (from `Ready.snapshot`). */
  applySnapshot(snap: Snapshot): void {
    if (snap.metadata.index < this.snap.metadata.index) throw new SnapshotOutOfDateError();
    this.snap = snap;
    this.ents = [
      {
        index: snap.metadata.index,
        term: snap.metadata.term,
        type: EntryType.Normal,
        data: new Uint8Array(0),
      },
    ];
  }

  /**
   * Records a snapshot of the state machine at `index` (which must be in the log) so
   * the log can be compacted behind it. Returns the snapshot.
   */
  createSnapshot(index: number, confState: ConfState, data: Uint8Array): Snapshot {
    if (index <= this.snap.metadata.index) throw new SnapshotOutOfDateError();
    if (index > this.lastIndex()) {
      throw new UnavailableError(`snapshot index ${index} is past last index ${this.lastIndex()}`);
    }
    this.snap = {
      metadata: { index, term: this.term(index), confState: cloneConfState(confState) },
      data,
    };
    return this.snap;
  }

  /**
   * Discards entries up to and including `compactIndex`. It must not pass the snapshot's
   * index: a follower that needs the discarded entries is sent the snapshot, which
   * must reach at least that far.
   */
  compact(compactIndex: number): void {
    const offset = this.ents[0]!.index;
    if (compactIndex <= offset) throw new CompactedError();
    if (compactIndex > this.lastIndex()) {
      throw new UnavailableError(`compact ${compactIndex} is past last index ${this.lastIndex()}`);
    }
    const i = compactIndex - offset;
    const head = this.ents[i]!;
    const rest = this.ents.slice(i + 1);
    this.ents = [
      { index: head.index, term: head.term, type: EntryType.Normal, data: new Uint8Array(0) },
      ...rest,
    ];
  }

  /**
   * Appends entries (from `Ready.entries`), truncating any conflicting suffix first:
   * an append at index i replaces everything from i on.
   */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const last = entries[0]!.index + entries.length - 1;
    if (last < first) return; // all already compacted
    let ents = entries;
    if (first > entries[0]!.index) ents = entries.slice(first - entries[0]!.index);
    const offset = ents[0]!.index - this.ents[0]!.index;
    if (offset > this.ents.length) {
      throw new RaftInvariantError(
        `missing log entry: last index ${this.lastIndex()}, append at ${ents[0]!.index}`,
      );
    }
    if (offset < this.ents.length) this.ents.length = offset;
    for (const e of ents) this.ents.push(e);
  }
}

/** A deep copy of a configuration. */
export function cloneConfState(cs: ConfState): ConfState {
  return { voters: [...cs.voters], learners: [...cs.learners] };
}
