import type { NodeId } from "./types.js";

/**
 * How the leader replicates to one follower (the flow control described in etcd's
 * raft design notes):
 * - Probe: we do not know where the follower's log ends; send one append per heartbeat
 *   interval and wait for its answer (fast backtracking narrows it down).
 * - Replicate: the follower is caught up; stream appends optimistically, bounded by
 *   the inflight window.
 * - Snapshot: the follower needs a snapshot; send nothing until it is installed.
 */
export const ProgressState = { Probe: 0, Replicate: 1, Snapshot: 2 } as const;
/** One of {@link ProgressState}'s values. */
export type ProgressState = (typeof ProgressState)[keyof typeof ProgressState];

/**
 * A sliding window of appends in flight to one follower, bounded in count and bytes,
 * so a slow follower cannot make the leader buffer without limit.
 */
export class Inflights {
  private readonly indexes: number[];
  private readonly sizes: number[];
  private start = 0;
  /** Number of appends in flight. */
  count = 0;
  /** Bytes in flight. */
  bytes = 0;
  readonly maxCount: number;
  readonly maxBytes: number;

  constructor(maxCount: number, maxBytes: number) {
    this.maxCount = maxCount;
    this.maxBytes = maxBytes;
    this.indexes = new Array<number>(maxCount).fill(0);
    this.sizes = new Array<number>(maxCount).fill(0);
  }

  /** Records an append whose last entry is `index`. */
  add(index: number, bytes: number): void {
    const i = (this.start + this.count) % this.maxCount;
    this.indexes[i] = index;
    this.sizes[i] = bytes;
    this.count++;
    this.bytes += bytes;
  }

  /** Frees every append whose last entry is `<= to` (the follower acknowledged them). */
  freeLE(to: number): void {
    while (this.count > 0 && this.indexes[this.start]! <= to) {
      this.bytes -= this.sizes[this.start]!;
      this.start = (this.start + 1) % this.maxCount;
      this.count--;
    }
    if (this.count === 0) {
      this.start = 0;
      this.bytes = 0;
    }
  }

  /** Frees the oldest append in flight. */
  freeFirstOne(): void {
    if (this.count === 0) return;
    this.freeLE(this.indexes[this.start]!);
  }

  full(): boolean {
    return this.count >= this.maxCount || (this.maxBytes > 0 && this.bytes >= this.maxBytes);
  }

  reset(): void {
    this.count = 0;
    this.bytes = 0;
    this.start = 0;
  }
}

/** What the leader knows about one member's log. */
export class Progress {
  /** Highest index known to be replicated on the member (Figure 2 `matchIndex`). */
  match = 0;
  /** Index of the next entry to send (Figure 2 `nextIndex`). */
  next: number;
  state: ProgressState = ProgressState.Probe;
  /** In Snapshot state: the index of the snapshot being sent. */
  pendingSnapshot = 0;
  /** Heard from since the last CheckQuorum round. */
  recentActive = false;
  /** In Probe state: an append was sent and we wait for the answer (or a heartbeat interval). */
  probeSent = false;
  readonly inflights: Inflights;
  isLearner: boolean;

  constructor(next: number, maxInflight: number, maxInflightBytes: number, isLearner: boolean) {
    this.next = next;
    this.inflights = new Inflights(maxInflight, maxInflightBytes);
    this.isLearner = isLearner;
  }

  private resetState(state: ProgressState): void {
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.state = state;
    this.inflights.reset();
  }

  becomeProbe(): void {
    // After a snapshot, resume right after it; otherwise right after what matches.
    if (this.state === ProgressState.Snapshot) {
      const pending = this.pendingSnapshot;
      this.resetState(ProgressState.Probe);
      this.next = Math.max(this.match + 1, pending + 1);
    } else {
      this.resetState(ProgressState.Probe);
      this.next = this.match + 1;
    }
  }

  becomeReplicate(): void {
    this.resetState(ProgressState.Replicate);
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState(ProgressState.Snapshot);
    this.pendingSnapshot = snapshotIndex;
  }

  /** Records an acknowledgement up to `n`; false if it tells us nothing new. */
  maybeUpdate(n: number): boolean {
    let updated = false;
    if (this.match < n) {
      this.match = n;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, n + 1);
    return updated;
  }

  /** Optimistically advances `next` after sending entries up to `lastIndex`. */
  sentEntries(count: number, bytes: number): void {
    if (this.state === ProgressState.Replicate) {
      if (count > 0) {
        this.next += count;
        this.inflights.add(this.next - 1, bytes);
      }
    } else if (this.state === ProgressState.Probe) {
      this.probeSent = true;
    }
  }

  /**
   * Handles a rejected append of the entry after `rejected`; `matchHint` is where the
   * follower suggests we retry. False if the rejection is stale (already superseded).
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === ProgressState.Replicate) {
      // Replicate sends are pipelined: a rejection below match is from an old append.
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    // In Probe state only the latest probe (next - 1) counts.
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1, 1);
    this.probeSent = false;
    return true;
  }

  /** Whether the leader should hold back appends to this member for now. */
  isPaused(): boolean {
    switch (this.state) {
      case ProgressState.Probe:
        return this.probeSent;
      case ProgressState.Replicate:
        return this.inflights.full();
      default:
        return true;
    }
  }
}

/** The configuration and progress of every member, as the leader tracks them. */
export class ProgressTracker {
  readonly voters = new Set<NodeId>();
  readonly learners = new Set<NodeId>();
  readonly progress = new Map<NodeId, Progress>();
  /** Votes received in the current election (true = granted). */
  readonly votes = new Map<NodeId, boolean>();
  readonly maxInflight: number;
  readonly maxInflightBytes: number;
  private readonly matchScratch: number[] = [];
  /** The voters' progress, cached for `committed()`; null when the configuration changed. */
  private voterProgress: (Progress | undefined)[] | null = null;

  /** A node's own progress, cached for {@link own}; null when unknown. */
  private ownProgress: Progress | undefined | null = null;
  private ownId: NodeId = 0n;

  /** Must be called after any change to `voters` or `progress`. */
  invalidate(): void {
    this.voterProgress = null;
    this.ownProgress = null;
    this.memberIds = null;
  }

  /** `progress`'s keys and values, in its order, cached for {@link members}. */
  private memberIds: NodeId[] | null = null;
  private memberProgress: Progress[] = [];

  /**
   * `progress.get(id)`, by a scan of {@link members} in small clusters: comparing a few
   * bigints is cheaper than hashing one, and the leader asks on every acknowledgement.
   */
  get(id: NodeId): Progress | undefined {
    const { ids, progress } = this.members();
    if (ids.length > 8) return this.progress.get(id);
    for (let i = 0; i < ids.length; i++) if (ids[i] === id) return progress[i];
    return undefined;
  }

  /**
   * Every member (voters and learners) and its progress, in `progress`'s order, as two
   * parallel arrays cached until {@link invalidate}: the leader walks them on every
   * broadcast, and iterating the Map allocates an entry pair per member. Read-only.
   */
  members(): { ids: readonly NodeId[]; progress: readonly Progress[] } {
    if (this.memberIds === null) {
      this.memberIds = [...this.progress.keys()];
      this.memberProgress = [...this.progress.values()];
    }
    return { ids: this.memberIds, progress: this.memberProgress };
  }

  /**
   * `progress.get(id)` for the node's own id, cached until {@link invalidate}: it is
   * asked on every proposal and every `advance`, and a Map lookup by bigint is slow.
   */
  own(id: NodeId): Progress | undefined {
    if (this.ownProgress === null || this.ownId !== id) {
      this.ownProgress = this.progress.get(id);
      this.ownId = id;
    }
    return this.ownProgress;
  }

  constructor(maxInflight: number, maxInflightBytes: number) {
    this.maxInflight = maxInflight;
    this.maxInflightBytes = maxInflightBytes;
  }

  quorum(): number {
    return Math.floor(this.voters.size / 2) + 1;
  }

  isSingleton(): boolean {
    return this.voters.size === 1 && this.learners.size === 0;
  }

  /** The largest index replicated on a quorum of voters (Figure 2, leader's commit rule). */
  committed(): number {
    const n = this.voters.size;
    if (n === 0) return Number.MAX_SAFE_INTEGER; // no voters: nothing to wait for
    // Insertion sort, descending: clusters are small and this runs on every acknowledgement.
    if (this.voterProgress === null) {
      this.voterProgress = [];
      for (const id of this.voters) this.voterProgress.push(this.progress.get(id));
    }
    const m = this.matchScratch;
    let len = 0;
    for (const pr of this.voterProgress) {
      const v = pr?.match ?? 0;
      let j = len++;
      while (j > 0 && m[j - 1]! < v) {
        m[j] = m[j - 1]!;
        j--;
      }
      m[j] = v;
    }
    return m[this.quorum() - 1]!;
  }

  recordVote(id: NodeId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  resetVotes(): void {
    this.votes.clear();
  }

  /** "won" with a quorum of grants, "lost" once a quorum can no longer be reached, else "pending". */
  tallyVotes(): "won" | "lost" | "pending" {
    let granted = 0;
    let rejected = 0;
    for (const id of this.voters) {
      const v = this.votes.get(id);
      if (v === true) granted++;
      else if (v === false) rejected++;
    }
    const q = this.quorum();
    if (granted >= q) return "won";
    if (this.voters.size - rejected < q) return "lost";
    return "pending";
  }

  /** Whether a quorum of voters (counting `self`) was recently active; resets the flags. */
  quorumActive(self: NodeId): boolean {
    let active = 0;
    for (const id of this.voters) {
      const pr = this.progress.get(id);
      if (pr === undefined) continue;
      if (id === self || pr.recentActive) active++;
    }
    for (const [id, pr] of this.progress) pr.recentActive = id === self;
    return active >= this.quorum();
  }
}
