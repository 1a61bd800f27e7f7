import { sliceRange } from "./array.js";
import { CompactedError, RaftInvariantError, UnavailableError } from "./errors.js";
import { type LogView, limitSize } from "./storage.js";
import type { Entry, Snapshot } from "./types.js";

/**
 * Entries (and at most one snapshot) that Raft has accepted but the caller has not
 * persisted yet. They reach the caller through `Ready` and become stable on `advance`.
 */
class Unstable {
  snapshot: Snapshot | null = null;
  entries: Entry[] = [];
  /** The index of entries[0] (or where it would be). */
  offset: number;

  constructor(offset: number) {
    this.offset = offset;
  }

  maybeFirstIndex(): number | undefined {
    return this.snapshot === null ? undefined : this.snapshot.metadata.index + 1;
  }

  maybeLastIndex(): number | undefined {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1;
    return this.snapshot === null ? undefined : this.snapshot.metadata.index;
  }

  maybeTerm(i: number): number | undefined {
    if (i < this.offset) {
      if (this.snapshot !== null && this.snapshot.metadata.index === i) {
        return this.snapshot.metadata.term;
      }
      return undefined;
    }
    const e = this.entries[i - this.offset];
    return e === undefined ? undefined : e.term;
  }

  /**
   * Entries up to `i` with term `t` were persisted. If the entry at `i` has since been
   * replaced by a different term, the persisted one is stale and nothing becomes stable.
   */
  stableTo(i: number, t: number): void {
    const gt = this.maybeTerm(i);
    if (gt === undefined || gt !== t || i < this.offset) return;
    const rest = i + 1 - this.offset;
    this.entries =
      rest >= this.entries.length ? [] : sliceRange(this.entries, rest, this.entries.length);
    this.offset = i + 1;
  }

  stableSnapTo(i: number): void {
    if (this.snapshot !== null && this.snapshot.metadata.index === i) this.snapshot = null;
  }

  restore(s: Snapshot): void {
    this.offset = s.metadata.index + 1;
    this.entries = [];
    this.snapshot = s;
  }

  truncateAndAppend(ents: Entry[]): void {
    const after = ents[0]!.index;
    if (after === this.offset + this.entries.length) {
      for (const e of ents) this.entries.push(e);
    } else if (after <= this.offset) {
      // Replaces everything unstable; the caller's storage truncates the stable suffix
      // when it appends these entries (an append at i replaces everything from i on).
      this.offset = after;
      this.entries = ents.slice();
    } else {
      this.entries = this.entries.slice(0, after - this.offset).concat(ents);
    }
  }

  slice(lo: number, hi: number): Entry[] {
    return sliceRange(this.entries, lo - this.offset, hi - this.offset);
  }
}

/**
 * The log as Raft sees it: the caller's stable {@link LogView} plus the unstable tail.
 * Also tracks the commit index and the index handed to the caller to apply.
 */
export class RaftLog {
  readonly storage: LogView;
  readonly unstable: Unstable;
  /** Highest index known to be committed (Raft paper, Figure 2 `commitIndex`). */
  committed: number;
  /** Highest index handed to the caller to apply (and advanced). */
  applied: number;

  constructor(storage: LogView) {
    this.storage = storage;
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    this.unstable = new Unstable(last + 1);
    this.committed = first - 1;
    this.applied = first - 1;
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  lastTerm(): number {
    const t = this.term(this.lastIndex());
    if (t === undefined) throw new RaftInvariantError("the term of the last entry is unknown");
    return t;
  }

  /** The term of entry `i`, or undefined when it is compacted away or past the end. */
  term(i: number): number | undefined {
    const u = this.unstable.maybeTerm(i);
    if (u !== undefined) return u;
    if (i < this.firstIndex() - 1 || i > this.lastIndex()) return undefined;
    try {
      return this.storage.term(i);
    } catch (err) {
      if (err instanceof CompactedError || err instanceof UnavailableError) return undefined;
      throw err;
    }
  }

  matchTerm(i: number, t: number): boolean {
    return this.term(i) === t;
  }

  /**
   * The receiver half of AppendEntries (Raft paper §5.3): if the entry at `index` has
   * `logTerm`, append what is new (truncating a conflicting suffix) and return the index
   * of the last new entry; otherwise undefined.
   */
  maybeAppend(
    index: number,
    logTerm: number,
    committed: number,
    ents: Entry[],
  ): number | undefined {
    if (!this.matchTerm(index, logTerm)) return undefined;
    const lastNew = index + ents.length;
    const ci = this.findConflict(ents);
    if (ci !== 0) {
      if (ci <= this.committed) {
        // A leader never asks to overwrite a committed entry (Leader Completeness, §5.4).
        throw new RaftInvariantError(
          `entry ${ci} conflicts with committed entry (committed ${this.committed})`,
        );
      }
      // append() copies what it keeps, so all-new entries need no slice of their own.
      this.append(ci === index + 1 ? ents : ents.slice(ci - (index + 1)));
    }
    this.commitTo(Math.min(committed, lastNew));
    return lastNew;
  }

  append(ents: Entry[]): number {
    if (ents.length === 0) return this.lastIndex();
    const after = ents[0]!.index - 1;
    if (after < this.committed) {
      throw new RaftInvariantError(`append after ${after} is below committed ${this.committed}`);
    }
    this.unstable.truncateAndAppend(ents);
    return this.lastIndex();
  }

  /** The index of the first entry whose term differs from ours (or that we lack); 0 if none. */
  findConflict(ents: Entry[]): number {
    for (const e of ents) {
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return 0;
  }

  /**
   * The largest index `<= index` whose term is `<= term`, with that term. Used for fast
   * backtracking: entries after it cannot match a log whose entry at `index` has `term`.
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    for (let i = index; i >= 0; i--) {
      const t = this.term(i);
      if (t === undefined) return { index: i, term: 0 };
      if (t <= term) return { index: i, term: t };
    }
    return { index: 0, term: 0 };
  }

  unstableEntries(): Entry[] {
    return this.unstable.entries;
  }

  /** The last index the caller has persisted (unstable entries excluded). */
  stableLastIndex(): number {
    return this.unstable.offset - 1;
  }

  /** Committed and persisted entries not yet handed out to apply, up to `maxBytes`. */
  nextCommittedEntries(maxBytes: number): Entry[] {
    if (this.unstable.snapshot !== null) return []; // install the snapshot first
    const off = Math.max(this.applied + 1, this.firstIndex());
    const hi = Math.min(this.committed, this.stableLastIndex()) + 1;
    if (hi <= off) return [];
    return this.slice(off, hi, maxBytes);
  }

  hasNextCommittedEntries(): boolean {
    if (this.unstable.snapshot !== null) return false;
    const off = Math.max(this.applied + 1, this.firstIndex());
    return Math.min(this.committed, this.stableLastIndex()) + 1 > off;
  }

  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  commitTo(toCommit: number): void {
    if (this.committed >= toCommit) return; // never decrease commit
    if (this.lastIndex() < toCommit) {
      throw new RaftInvariantError(
        `commit ${toCommit} is out of range [last index ${this.lastIndex()}]`,
      );
    }
    this.committed = toCommit;
  }

  appliedTo(i: number): void {
    if (i === 0) return;
    if (this.committed < i || i < this.applied) {
      throw new RaftInvariantError(
        `applied ${i} is out of range [prev applied ${this.applied}, committed ${this.committed}]`,
      );
    }
    this.applied = i;
  }

  stableTo(i: number, t: number): void {
    this.unstable.stableTo(i, t);
  }

  stableSnapTo(i: number): void {
    this.unstable.stableSnapTo(i);
  }

  /** Entries from `i` to the end, up to `maxBytes`. Throws CompactedError below the log. */
  entries(i: number, maxBytes: number): Entry[] {
    if (i > this.lastIndex()) return [];
    return this.slice(i, this.lastIndex() + 1, maxBytes);
  }

  /** The election restriction (Raft paper §5.4.1): is a log ending at (lastIndex, term) at least as up-to-date as ours? */
  isUpToDate(lastIndex: number, term: number): boolean {
    const ourTerm = this.lastTerm();
    return term > ourTerm || (term === ourTerm && lastIndex >= this.lastIndex());
  }

  /** Commits `maxIndex` if its entry is of `term` (§5.4.2: only current-term entries by counting). */
  maybeCommit(maxIndex: number, term: number): boolean {
    if (maxIndex > this.committed && this.term(maxIndex) === term) {
      this.commitTo(maxIndex);
      return true;
    }
    return false;
  }

  restore(s: Snapshot): void {
    this.committed = s.metadata.index;
    this.unstable.restore(s);
  }

  /** Entries `[lo, hi)` from storage and the unstable tail, up to `maxBytes`. */
  slice(lo: number, hi: number, maxBytes: number): Entry[] {
    const first = this.firstIndex();
    if (lo < first) throw new CompactedError();
    if (hi > this.lastIndex() + 1) {
      throw new UnavailableError(
        `slice [${lo}, ${hi}) out of bound [${first}, ${this.lastIndex()}]`,
      );
    }
    if (lo === hi) return [];
    let ents: Entry[] = [];
    const uOff = this.unstable.offset;
    if (lo < uOff) {
      ents = this.storage.entries(lo, Math.min(hi, uOff), maxBytes);
      // Storage cut the batch short: do not bridge the gap with unstable entries.
      if (ents.length < Math.min(hi, uOff) - lo) return ents;
    }
    if (hi > uOff) {
      const u = this.unstable.slice(Math.max(lo, uOff), hi);
      ents = ents.length > 0 ? ents.concat(u) : u;
    }
    return limitSize(ents, maxBytes);
  }
}
