/**
 * The Raft state machine. Pure and deterministic: the caller drives it with `tick()`
 * and `step()`, asks for a {@link Ready} batch, performs it (persist, then send, then
 * apply) and calls `advance()`. Modelled on etcd-io/raft (`raft.go`, `rawnode.go`) and
 * the Raft paper / thesis; section references are to the paper unless noted.
 */

import { sliceRange } from "./array.js";
import { decodeConfChange, encodeConfChange } from "./codec.js";
import {
  CompactedError,
  ConfChangeInProgressError,
  InvalidConfChangeError,
  ProposalDroppedError,
  RaftConfigError,
  RaftInvariantError,
  SnapshotTemporarilyUnavailableError,
} from "./errors.js";
import { RaftLog } from "./log.js";
import { Progress, ProgressState, ProgressTracker } from "./progress.js";
import { type RandomSource, seededRandom } from "./random.js";
import { entrySize, type LogView } from "./storage.js";
import {
  type ConfChange,
  ConfChangeType,
  type ConfState,
  type Entry,
  EntryType,
  type HardState,
  type Message,
  MessageType,
  makeMessage,
  NONE,
  type NodeId,
  newMessage,
  type ReadState,
  type Snapshot,
  type SoftState,
  StateRole,
} from "./types.js";

/** A founding member: its id, or its id and the context of its ConfChange entry. */
export type BootstrapPeer = NodeId | { id: NodeId; context: Uint8Array };

/** How a node is created. */
export interface RaftConfig {
  /** This node's id (non-zero). */
  id: NodeId;
  /** The persisted log, hard state and snapshot. */
  storage: LogView;
  /**
   * Bootstraps a brand-new cluster: the initial voters, written as committed ConfChange
   * entries 1..n of term 1 (the caller applies them like any other). Only for an empty
   * storage; a member joining an existing cluster, or restarting, passes none. Every
   * founding member must pass the same list in the same order. A peer may carry a
   * context (etcd puts the member's JSON there) that its ConfChange entry will hold.
   */
  peers?: BootstrapPeer[];
  /** Bootstrap learners (after the voters), as for `peers`. */
  learners?: BootstrapPeer[];
  /** Ticks without hearing from a leader before a follower campaigns (default 10). */
  electionTick?: number;
  /** Ticks between a leader's heartbeats (default 1); must be less than `electionTick`. */
  heartbeatTick?: number;
  /**
   * The last index the caller has applied (default: the snapshot's index). Committed
   * entries after it are handed out again. `storage.initialState().confState` must be
   * the configuration as of this index.
   */
  applied?: number;
  /** Pre-vote (thesis §9.6) before a real election (default true). */
  preVote?: boolean;
  /** A leader steps down when it has not heard from a quorum for an election timeout (default true). */
  checkQuorum?: boolean;
  /** Byte limit of the entries in one append message (default 1 MiB). */
  maxSizePerMsg?: number;
  /** Appends in flight to one follower in Replicate state (default 256). */
  maxInflightMsgs?: number;
  /** Bytes in flight to one follower (default 0: unlimited). */
  maxInflightBytes?: number;
  /** Byte limit of `Ready.committedEntries` (default 64 MiB). */
  maxCommittedSizePerReady?: number;
  /** The random source for election timeouts (default: seeded from the id). */
  random?: RandomSource;
  /** Followers refuse proposals instead of forwarding them to the leader (default false). */
  disableProposalForwarding?: boolean;
}

/**
 * Everything the caller must do, in this order: persist `hardState`, `entries` and
 * `snapshot` (atomically, durably when `mustSync`); then send `messages` (they may
 * depend on what was just persisted, e.g. votes and append acknowledgements); then
 * install `snapshot` into the state machine and apply `committedEntries` (calling
 * `applyConfChange` for ConfChange entries); serve `readStates` once the applied
 * index reaches theirs; finally call `advance(ready)`.
 */
export interface Ready {
  /** Present when the leader or role changed. */
  softState?: SoftState;
  /** Present when term, vote or commit changed. */
  hardState?: HardState;
  /** New entries to append to the log (an append at i replaces the log from i on). */
  entries: Entry[];
  /** A snapshot to persist and install. */
  snapshot?: Snapshot;
  /** Committed entries to apply, in order. */
  committedEntries: Entry[];
  /** Messages to send, after persisting. */
  messages: Message[];
  /** Answers to `readIndex` requests. */
  readStates: ReadState[];
  /** Whether the write must be synced to disk (hard state or entries changed). */
  mustSync: boolean;
}

/** A read-only summary of a node, for status output and tests. */
export interface RaftStatus {
  id: NodeId;
  term: number;
  vote: NodeId;
  commit: number;
  applied: number;
  lead: NodeId;
  role: StateRole;
  leadTransferee: NodeId;
  firstIndex: number;
  lastIndex: number;
  /** Leader only: each member's match and next index and replication state. */
  progress: Map<NodeId, { match: number; next: number; state: ProgressState; isLearner: boolean }>;
  confState: ConfState;
}

/** The context of the vote requests a leadership transfer triggers (they bypass leases). */
const TRANSFER_CONTEXT = new Uint8Array([0x74, 0x72, 0x61, 0x6e, 0x73, 0x66, 0x65, 0x72]);
const EMPTY = new Uint8Array(0);

function isTransferContext(ctx: Uint8Array): boolean {
  if (ctx.byteLength !== TRANSFER_CONTEXT.byteLength) return false;
  for (let i = 0; i < ctx.byteLength; i++) if (ctx[i] !== TRANSFER_CONTEXT[i]) return false;
  return true;
}

/** A map key for a ReadIndex context. */
function contextKey(ctx: Uint8Array): string {
  let s = "";
  for (let i = 0; i < ctx.byteLength; i++) s += String.fromCharCode(ctx[i]!);
  return s;
}

interface PendingRead {
  index: number;
  req: Message;
  acks: Set<NodeId>;
}

/**
 * One Raft node. Not re-entrant: call its methods from one place at a time. Between
 * `ready()` and `advance()` the caller may keep calling `step`/`tick`/`propose`; their
 * effects go into the next Ready.
 */
export class RaftNode {
  readonly id: NodeId;
  private readonly log: RaftLog;
  private readonly tracker: ProgressTracker;
  private readonly electionTimeout: number;
  private readonly heartbeatTimeout: number;
  private readonly preVote: boolean;
  private readonly checkQuorum: boolean;
  private readonly maxSizePerMsg: number;
  private readonly maxCommittedSize: number;
  private readonly random: RandomSource;
  private readonly disableForwarding: boolean;

  private term = 0;
  private vote: NodeId = NONE;
  private lead: NodeId = NONE;
  private role: StateRole = StateRole.Follower;
  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  private leadTransferee: NodeId = NONE;
  /** Leader: a new conf change is refused until this index is applied (one at a time). */
  private pendingConfIndex = 0;

  private msgs: Message[] = [];
  private readStates: ReadState[] = [];
  /** ReadIndex requests waiting for the leader to commit an entry of its term. */
  private pendingReadIndexMessages: Message[] = [];
  private pendingReads = new Map<string, PendingRead>();
  private readQueue: string[] = [];

  // The soft and hard state last handed out, as plain fields: comparing them is on
  // every hasReady() and ready(), and rebuilding objects there is pure garbage.
  private prevLead: NodeId = NONE;
  private prevRole: StateRole = StateRole.Follower;
  private prevTerm: number;
  private prevVote: NodeId;
  private prevCommit: number;
  private readyOutstanding = false;
  /** Leader: new entries were appended and not yet broadcast. */
  private pendingBcast = false;

  constructor(config: RaftConfig) {
    if (config.id === NONE) throw new RaftConfigError("node id must not be 0");
    const electionTick = config.electionTick ?? 10;
    const heartbeatTick = config.heartbeatTick ?? 1;
    if (heartbeatTick <= 0) throw new RaftConfigError("heartbeatTick must be greater than 0");
    if (electionTick <= heartbeatTick) {
      throw new RaftConfigError("electionTick must be greater than heartbeatTick");
    }
    this.id = config.id;
    this.electionTimeout = electionTick;
    this.heartbeatTimeout = heartbeatTick;
    this.preVote = config.preVote ?? true;
    this.checkQuorum = config.checkQuorum ?? true;
    this.maxSizePerMsg = config.maxSizePerMsg ?? 1024 * 1024;
    this.maxCommittedSize = config.maxCommittedSizePerReady ?? 64 * 1024 * 1024;
    this.random = config.random ?? seededRandom(Number(config.id & 0x7fffffffn));
    this.disableForwarding = config.disableProposalForwarding ?? false;
    const maxInflight = config.maxInflightMsgs ?? 256;
    if (maxInflight <= 0) throw new RaftConfigError("maxInflightMsgs must be greater than 0");
    this.tracker = new ProgressTracker(maxInflight, config.maxInflightBytes ?? 0);
    this.log = new RaftLog(config.storage);

    const { hardState, confState } = config.storage.initialState();
    this.prevTerm = hardState.term;
    this.prevVote = hardState.vote;
    this.prevCommit = hardState.commit;
    const bootstrapping = (config.peers?.length ?? 0) + (config.learners?.length ?? 0) > 0;
    if (bootstrapping) {
      if (config.storage.lastIndex() !== 0 || hardState.term !== 0) {
        throw new RaftConfigError("peers may only bootstrap an empty storage");
      }
      this.bootstrap(config.peers ?? [], config.learners ?? []);
    } else {
      this.restoreConfState(confState);
      if (hardState.term !== 0 || hardState.vote !== NONE || hardState.commit !== 0) {
        this.loadState(hardState);
      }
      // Committed entries after the applied index are handed out again. The snapshot
      // may sit above the first index when the log was not compacted right behind it.
      const applied = config.applied ?? config.storage.snapshot().metadata.index;
      if (applied > this.log.applied) this.log.appliedTo(applied);
      this.becomeFollower(this.term, NONE);
    }
  }

  // ---------------------------------------------------------------- public API

  /** Advances the logical clock by one tick (elections, heartbeats, CheckQuorum). */
  tick(): void {
    if (this.role === StateRole.Leader) this.tickHeartbeat();
    else this.tickElection();
  }

  /** Starts an election now (as if the election timeout elapsed). */
  campaign(): void {
    this.hup(false);
  }

  /**
   * Proposes a command. On the leader it is appended; on a follower it is forwarded
   * to the leader. Throws {@link ProposalDroppedError} when no leader is known,
   * forwarding is off, or a leadership transfer is under way.
   */
  propose(data: Uint8Array): void {
    if (this.role === StateRole.Leader) {
      // The common case, without the Prop message a follower would forward.
      this.leaderAppendLocal([{ index: 0, term: 0, type: EntryType.Normal, data }]);
      return;
    }
    this.stepProp(
      newMessage({
        type: MessageType.Prop,
        from: this.id,
        to: this.id,
        entries: [{ index: 0, term: 0, type: EntryType.Normal, data }],
      }),
      true,
    );
  }

  /** Proposes many commands at once (they travel in one append). */
  proposeBatch(data: readonly Uint8Array[]): void {
    if (data.length === 0) return;
    this.stepProp(
      newMessage({
        type: MessageType.Prop,
        from: this.id,
        to: this.id,
        entries: data.map((d) => ({ index: 0, term: 0, type: EntryType.Normal, data: d })),
      }),
      true,
    );
  }

  /**
   * Proposes a membership change. Only one change may be in flight: on the leader this
   * throws {@link ConfChangeInProgressError} until the previous one is applied.
   */
  proposeConfChange(cc: ConfChange): void {
    if (this.role === StateRole.Leader) this.validateConfChange(cc);
    this.stepProp(
      newMessage({
        type: MessageType.Prop,
        from: this.id,
        to: this.id,
        entries: [{ index: 0, term: 0, type: EntryType.ConfChange, data: encodeConfChange(cc) }],
      }),
      true,
    );
  }

  /**
   * Asks for a linearizable read point (thesis §6.4, ReadIndex). When the leader has
   * confirmed with a heartbeat quorum that it is still the leader, a {@link ReadState}
   * with `context` appears in a Ready; reading after applying up to its index is
   * linearizable. `context` must be non-empty and unique among outstanding requests.
   */
  readIndex(context: Uint8Array): void {
    if (context.byteLength === 0) throw new RaftConfigError("readIndex context must not be empty");
    const m = newMessage({
      type: MessageType.ReadIndex,
      from: this.id,
      to: this.id,
      context: context.slice(),
    });
    if (this.role === StateRole.Leader) {
      this.leaderReadIndex(m);
    } else if (this.lead === NONE || this.role !== StateRole.Follower) {
      throw new ProposalDroppedError("no leader to serve a read index");
    } else {
      m.to = this.lead;
      this.send(m);
    }
  }

  /**
   * Hands leadership to `to` (thesis §3.10): the leader stops accepting proposals,
   * brings `to` up to date, then tells it to campaign at once. Gives up after an
   * election timeout. On a follower the request is forwarded to the leader.
   */
  transferLeadership(to: NodeId): void {
    const m = newMessage({ type: MessageType.TransferLeader, from: to, to: this.id });
    if (this.role === StateRole.Leader) {
      this.leaderTransfer(m);
    } else if (this.lead === NONE) {
      throw new ProposalDroppedError("no leader to transfer leadership from");
    } else {
      m.to = this.lead;
      this.send(m);
    }
  }

  /** Handles a message from a peer. Messages for another node are ignored. */
  step(m: Message): void {
    if (m.to !== this.id) return;
    if (m.term === 0) {
      // Forwarded requests carry no term: they are treated as local to the receiver.
      if (m.type === MessageType.Prop) this.stepProp(m, false);
      else if (m.type === MessageType.ReadIndex) this.stepForwardedReadIndex(m);
      else if (m.type === MessageType.TransferLeader) this.stepForwardedTransfer(m);
      return;
    }
    if (m.term > this.term) {
      if (m.type === MessageType.Vote || m.type === MessageType.PreVote) {
        const force = isTransferContext(m.context);
        const inLease =
          this.checkQuorum && this.lead !== NONE && this.electionElapsed < this.electionTimeout;
        // A member that heard from a leader within the election timeout ignores
        // elections (thesis §4.2.3): a removed or partitioned node cannot disrupt.
        if (!force && inLease) return;
      }
      if (m.type === MessageType.PreVote) {
        // A pre-vote changes no term.
      } else if (m.type === MessageType.PreVoteResp && !m.reject) {
        // Our pre-vote succeeded at the future term; we bump the term when we campaign.
      } else if (
        m.type === MessageType.App ||
        m.type === MessageType.Heartbeat ||
        m.type === MessageType.Snap
      ) {
        this.becomeFollower(m.term, m.from);
      } else {
        this.becomeFollower(m.term, NONE);
      }
    } else if (m.term < this.term) {
      if (m.type === MessageType.Heartbeat || m.type === MessageType.App) {
        // Reject a stale leader with our term (§5.1) so it steps down. etcd answers only
        // with CheckQuorum or PreVote on, relying otherwise on our vote requests; but a
        // member whose configuration is stale may not even ask the current members, and
        // would then stay cut off forever (found by the simulator).
        this.send(newMessage({ type: MessageType.AppResp, to: m.from }));
      } else if (m.type === MessageType.PreVote) {
        this.send(
          newMessage({ type: MessageType.PreVoteResp, to: m.from, term: this.term, reject: true }),
        );
      }
      return;
    }

    if (m.type === MessageType.Vote || m.type === MessageType.PreVote) {
      const canVote =
        this.vote === m.from ||
        (this.vote === NONE && this.lead === NONE) ||
        (m.type === MessageType.PreVote && m.term > this.term);
      const respType = m.type === MessageType.Vote ? MessageType.VoteResp : MessageType.PreVoteResp;
      // The election restriction (§5.4.1): only vote for a log at least as up-to-date.
      if (canVote && this.log.isUpToDate(m.index, m.logTerm)) {
        this.send(newMessage({ type: respType, to: m.from, term: m.term }));
        if (m.type === MessageType.Vote) {
          this.electionElapsed = 0;
          this.vote = m.from;
        }
      } else {
        this.send(newMessage({ type: respType, to: m.from, term: this.term, reject: true }));
      }
      return;
    }

    switch (this.role) {
      case StateRole.Leader:
        this.stepLeader(m);
        break;
      case StateRole.Candidate:
      case StateRole.PreCandidate:
        this.stepCandidate(m);
        break;
      default:
        this.stepFollower(m);
    }
  }

  /**
   * Applies a committed membership change (call it when applying a ConfChange entry)
   * and returns the new configuration. Changes that make no sense against the current
   * configuration are ignored, identically on every member.
   */
  applyConfChange(cc: ConfChange): ConfState {
    const t = this.tracker;
    const id = cc.nodeId;
    let changed = false;
    switch (cc.type) {
      case ConfChangeType.AddNode:
        if (t.learners.has(id)) {
          t.learners.delete(id);
          t.voters.add(id);
          const pr = t.progress.get(id);
          if (pr !== undefined) pr.isLearner = false;
          changed = true;
        } else if (!t.voters.has(id)) {
          t.voters.add(id);
          this.addProgress(id, false);
          changed = true;
        }
        break;
      case ConfChangeType.AddLearnerNode:
        // Demoting a voter is not supported one change at a time; ignored.
        if (!t.voters.has(id) && !t.learners.has(id)) {
          t.learners.add(id);
          this.addProgress(id, true);
          changed = true;
        }
        break;
      case ConfChangeType.RemoveNode:
        if (t.learners.has(id)) {
          t.learners.delete(id);
          t.progress.delete(id);
          changed = true;
        } else if (t.voters.has(id) && t.voters.size > 1) {
          t.voters.delete(id);
          t.progress.delete(id);
          changed = true;
        }
        break;
      default:
        break; // UpdateNode: nothing for Raft
    }
    if (changed) {
      t.invalidate();
      this.afterConfChange(id, cc.type === ConfChangeType.RemoveNode);
    }
    return this.confState();
  }

  /** Whether {@link ready} has anything to hand out (false while a Ready is outstanding). */
  hasReady(): boolean {
    if (this.readyOutstanding) return false;
    if (this.pendingBcast) return true;
    if (this.msgs.length > 0 || this.readStates.length > 0) return true;
    if (this.log.unstable.entries.length > 0 || this.log.unstable.snapshot !== null) return true;
    if (this.lead !== this.prevLead || this.role !== this.prevRole) return true;
    if (
      this.term !== this.prevTerm ||
      this.vote !== this.prevVote ||
      this.log.committed !== this.prevCommit
    ) {
      return true;
    }
    return this.log.hasNextCommittedEntries();
  }

  /**
   * The next batch of work (see {@link Ready}). Call `advance(ready)` when done; calling
   * `ready()` again before that throws.
   */
  ready(): Ready {
    if (this.readyOutstanding) {
      throw new RaftConfigError("ready() called again before advance() of the previous Ready");
    }
    this.readyOutstanding = true;
    this.flushBcast();
    const unstable = this.log.unstable;
    const entries = sliceRange(unstable.entries, 0, unstable.entries.length);
    const committedEntries = this.log.nextCommittedEntries(this.maxCommittedSize);
    const messages = this.msgs;
    const readStates = this.readStates;
    this.msgs = [];
    this.readStates = [];
    let softState: SoftState | undefined;
    if (this.lead !== this.prevLead || this.role !== this.prevRole) {
      this.prevLead = this.lead;
      this.prevRole = this.role;
      softState = { lead: this.lead, role: this.role };
    }
    let hardState: HardState | undefined;
    let mustSync = false;
    const committed = this.log.committed;
    // Term or vote changed: must be durable before any message leaves (§5.1, Figure 2).
    const termOrVote = this.term !== this.prevTerm || this.vote !== this.prevVote;
    if (termOrVote || committed !== this.prevCommit) {
      mustSync = termOrVote;
      this.prevTerm = this.term;
      this.prevVote = this.vote;
      this.prevCommit = committed;
      hardState = { term: this.term, vote: this.vote, commit: committed };
    }
    const snapshot = unstable.snapshot;
    if (entries.length > 0 || snapshot !== null) mustSync = true;
    // Built in one literal in the common cases: adding a property to an object that
    // exists already changes its shape and allocates a property store. Key order is the
    // same in every case (the optional fields last, as absent ones are left out).
    if (softState === undefined && snapshot === null) {
      return hardState === undefined
        ? { entries, committedEntries, messages, readStates, mustSync }
        : { entries, committedEntries, messages, readStates, mustSync, hardState };
    }
    const rd: Ready = { entries, committedEntries, messages, readStates, mustSync };
    if (softState !== undefined) rd.softState = softState;
    if (hardState !== undefined) rd.hardState = hardState;
    if (snapshot !== null) rd.snapshot = snapshot;
    return rd;
  }

  /** Tells the node the caller has done everything `rd` asked. */
  advance(rd: Ready): void {
    if (!this.readyOutstanding) throw new RaftConfigError("advance() without a Ready");
    this.readyOutstanding = false;
    if (rd.snapshot !== undefined) {
      this.log.stableSnapTo(rd.snapshot.metadata.index);
      if (rd.snapshot.metadata.index > this.log.applied) {
        this.log.applied = rd.snapshot.metadata.index;
      }
    }
    const last = rd.entries[rd.entries.length - 1];
    if (last !== undefined) this.log.stableTo(last.index, last.term);
    const lastApplied = rd.committedEntries[rd.committedEntries.length - 1];
    if (lastApplied !== undefined) this.log.appliedTo(lastApplied.index);
    if (this.role === StateRole.Leader) {
      // The leader counts itself only for what it has persisted (thesis §10.2.1 allows
      // writing in parallel with followers; counting unpersisted entries would not be safe).
      const self = this.tracker.own(this.id);
      if (self?.maybeUpdate(this.log.stableLastIndex())) {
        // The new commit index goes out with the next Ready's appends.
        if (this.maybeCommit()) this.pendingBcast = true;
      }
    }
  }

  /** Tells the leader a message to `id` could not be delivered (its progress goes back to probing). */
  reportUnreachable(id: NodeId): void {
    if (this.role !== StateRole.Leader) return;
    const pr = this.tracker.progress.get(id);
    if (pr !== undefined && pr.state === ProgressState.Replicate) pr.becomeProbe();
  }

  /** Tells the leader whether sending a snapshot to `id` succeeded (a failure resumes probing). */
  reportSnapshot(id: NodeId, ok: boolean): void {
    if (this.role !== StateRole.Leader) return;
    const pr = this.tracker.progress.get(id);
    if (pr === undefined || pr.state !== ProgressState.Snapshot) return;
    if (!ok) pr.pendingSnapshot = 0;
    pr.becomeProbe();
    // Wait for a heartbeat response before probing again.
    pr.probeSent = true;
  }

  /** The current configuration. */
  confState(): ConfState {
    return { voters: [...this.tracker.voters], learners: [...this.tracker.learners] };
  }

  /** A summary of this node. */
  status(): RaftStatus {
    const progress: RaftStatus["progress"] = new Map();
    if (this.role === StateRole.Leader) {
      for (const [id, pr] of this.tracker.progress) {
        progress.set(id, {
          match: pr.match,
          next: pr.next,
          state: pr.state,
          isLearner: pr.isLearner,
        });
      }
    }
    return {
      id: this.id,
      term: this.term,
      vote: this.vote,
      commit: this.log.committed,
      applied: this.log.applied,
      lead: this.lead,
      role: this.role,
      leadTransferee: this.leadTransferee,
      firstIndex: this.log.firstIndex(),
      lastIndex: this.log.lastIndex(),
      progress,
      confState: this.confState(),
    };
  }

  /** The term of the entry at `index` in this node's log (stable or not), if it holds it. */
  logTerm(index: number): number | undefined {
    return this.log.term(index);
  }

  /** The role this node plays now. */
  get state(): StateRole {
    return this.role;
  }

  /** The leader this node knows of (`NONE` if none). */
  get leader(): NodeId {
    return this.lead;
  }

  /** The current term. */
  get currentTerm(): number {
    return this.term;
  }

  /** The highest log index known to be committed. */
  get committed(): number {
    return this.log.committed;
  }

  // ---------------------------------------------------------------- setup

  private bootstrap(peers: BootstrapPeer[], learners: BootstrapPeer[]): void {
    const ents: Entry[] = [];
    const change = (p: BootstrapPeer, type: ConfChangeType): ConfChange =>
      typeof p === "bigint"
        ? { type, nodeId: p, context: EMPTY }
        : { type, nodeId: p.id, context: p.context };
    const changes: ConfChange[] = [
      ...peers.map((p) => change(p, ConfChangeType.AddNode)),
      ...learners.map((p) => change(p, ConfChangeType.AddLearnerNode)),
    ];
    for (const cc of changes) {
      ents.push({
        index: ents.length + 1,
        term: 1,
        type: EntryType.ConfChange,
        data: encodeConfChange(cc),
      });
    }
    this.becomeFollower(1, NONE);
    this.log.append(ents);
    // The bootstrap entries are committed by fiat: every founding member writes the
    // same ones. They reach the caller as entries to persist and, after that, to apply.
    this.log.committed = ents.length;
    for (const cc of changes) this.applyConfChange(cc);
  }

  private loadState(hs: HardState): void {
    if (hs.commit < this.log.committed || hs.commit > this.log.lastIndex()) {
      throw new RaftInvariantError(
        `hard state commit ${hs.commit} is out of range [${this.log.committed}, ${this.log.lastIndex()}]`,
      );
    }
    this.log.committed = hs.commit;
    this.term = hs.term;
    this.vote = hs.vote;
  }

  private restoreConfState(cs: ConfState): void {
    const t = this.tracker;
    t.voters.clear();
    t.learners.clear();
    t.progress.clear();
    for (const id of cs.voters) {
      t.voters.add(id);
      this.addProgress(id, false);
    }
    for (const id of cs.learners) {
      if (t.voters.has(id)) continue;
      t.learners.add(id);
      this.addProgress(id, true);
    }
    t.invalidate();
  }

  private addProgress(id: NodeId, isLearner: boolean): void {
    const pr = new Progress(
      this.log.lastIndex() + 1,
      this.tracker.maxInflight,
      this.tracker.maxInflightBytes,
      isLearner,
    );
    // A new member counts as active so CheckQuorum does not depose the leader at once.
    pr.recentActive = true;
    if (id === this.id) pr.match = this.log.stableLastIndex();
    this.tracker.progress.set(id, pr);
    this.tracker.invalidate();
  }

  private afterConfChange(id: NodeId, removed: boolean): void {
    if (this.role !== StateRole.Leader) return;
    if (removed && id === this.id) {
      // A leader that removed itself steps down once the change is applied (thesis §4.2.2);
      // the remaining members elect a new leader among themselves.
      this.becomeFollower(this.term, NONE);
      return;
    }
    if (this.leadTransferee !== NONE && !this.tracker.voters.has(this.leadTransferee)) {
      this.abortLeaderTransfer();
    }
    // A smaller quorum may commit more; new members need the log.
    this.maybeCommit();
    this.bcastAppend();
  }

  // ---------------------------------------------------------------- roles

  private promotable(): boolean {
    return this.tracker.voters.has(this.id);
  }

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTimeout =
      this.electionTimeout + Math.floor(this.random() * this.electionTimeout);
    this.leadTransferee = NONE;
    this.tracker.resetVotes();
    const last = this.log.lastIndex();
    for (const [id, pr] of this.tracker.progress) {
      const fresh = new Progress(
        last + 1,
        this.tracker.maxInflight,
        this.tracker.maxInflightBytes,
        pr.isLearner,
      );
      if (id === this.id) fresh.match = this.log.stableLastIndex();
      this.tracker.progress.set(id, fresh);
    }
    this.tracker.invalidate();
    this.pendingConfIndex = 0;
    this.pendingBcast = false;
    this.pendingReads.clear();
    this.readQueue = [];
    this.pendingReadIndexMessages = [];
  }

  private becomeFollower(term: number, lead: NodeId): void {
    this.reset(term);
    this.lead = lead;
    this.role = StateRole.Follower;
  }

  private becomeCandidate(): void {
    if (this.role === StateRole.Leader)
      throw new RaftInvariantError("leader cannot become candidate");
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = StateRole.Candidate;
  }

  private becomePreCandidate(): void {
    if (this.role === StateRole.Leader) {
      throw new RaftInvariantError("leader cannot become pre-candidate");
    }
    // A pre-candidate changes neither term nor vote (thesis §9.6).
    this.tracker.resetVotes();
    this.lead = NONE;
    this.role = StateRole.PreCandidate;
  }

  private becomeLeader(): void {
    if (this.role === StateRole.Follower) {
      throw new RaftInvariantError("follower cannot become leader without an election");
    }
    this.reset(this.term);
    this.lead = this.id;
    this.role = StateRole.Leader;
    const self = this.tracker.progress.get(this.id);
    if (self !== undefined) self.becomeReplicate();
    // Every leader appends an empty entry of its term: committing it commits everything
    // before it (§5.4.2) and unblocks ReadIndex (thesis §6.4).
    this.appendEntries([{ index: 0, term: 0, type: EntryType.Normal, data: EMPTY }]);
    // No conf change until that entry is applied: this closes the single-server change
    // bug (Ongaro, raft-dev 2015) and waits out any change from an earlier term.
    this.pendingConfIndex = this.log.lastIndex();
  }

  private hup(transfer: boolean): void {
    if (this.role === StateRole.Leader) return;
    if (!this.promotable()) return;
    if (this.hasUnappliedConfChange()) return; // campaign with the configuration it will have
    if (this.preVote && !transfer) this.campaignPre();
    else this.campaignReal(transfer);
  }

  private hasUnappliedConfChange(): boolean {
    const lo = this.log.applied + 1;
    const hi = this.log.committed + 1;
    if (hi <= lo) return false;
    let ents: Entry[];
    try {
      ents = this.log.slice(Math.max(lo, this.log.firstIndex()), hi, Number.MAX_SAFE_INTEGER);
    } catch (err) {
      if (err instanceof CompactedError) return false;
      throw err;
    }
    return ents.some((e) => e.type === EntryType.ConfChange);
  }

  private campaignPre(): void {
    this.becomePreCandidate();
    this.tracker.recordVote(this.id, true);
    if (this.tracker.tallyVotes() === "won") {
      this.campaignReal(false);
      return;
    }
    const term = this.term + 1;
    this.requestVotes(MessageType.PreVote, term, false);
  }

  private campaignReal(transfer: boolean): void {
    this.becomeCandidate();
    this.tracker.recordVote(this.id, true);
    if (this.tracker.tallyVotes() === "won") {
      this.becomeLeader();
      return;
    }
    this.requestVotes(MessageType.Vote, this.term, transfer);
  }

  private requestVotes(type: MessageType, term: number, transfer: boolean): void {
    const lastIndex = this.log.lastIndex();
    const lastTerm = this.log.lastTerm();
    for (const id of this.tracker.voters) {
      if (id === this.id) continue;
      this.send(
        newMessage({
          type,
          to: id,
          term,
          index: lastIndex,
          logTerm: lastTerm,
          context: transfer ? TRANSFER_CONTEXT : EMPTY,
        }),
      );
    }
  }

  // ---------------------------------------------------------------- ticks

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.hup(false);
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTimeout) {
      this.electionElapsed = 0;
      if (this.checkQuorum && !this.tracker.quorumActive(this.id)) {
        // CheckQuorum (thesis §6.2): a leader cut off from a quorum steps down, so
        // clients stop waiting on it and a lease-based vote refusal stays safe.
        this.becomeFollower(this.term, NONE);
        return;
      }
      if (this.leadTransferee !== NONE) this.abortLeaderTransfer();
    }
    if (this.heartbeatElapsed >= this.heartbeatTimeout) {
      this.heartbeatElapsed = 0;
      this.bcastHeartbeat(this.lastPendingReadContext());
    }
  }

  // ---------------------------------------------------------------- steps per role

  private stepProp(m: Message, local: boolean): void {
    if (this.role === StateRole.Leader) {
      this.leaderPropose(m, local);
      return;
    }
    const fail = (why: string): void => {
      if (local) throw new ProposalDroppedError(why);
    };
    if (this.role !== StateRole.Follower || this.lead === NONE) {
      fail("no leader");
      return;
    }
    if (this.disableForwarding) {
      fail("proposal forwarding is disabled and this node is not the leader");
      return;
    }
    m.to = this.lead;
    m.from = this.id;
    m.term = 0;
    this.msgs.push(m);
  }

  /**
   * The leader appends normal entries proposed on itself (`ents` are fresh, owned here):
   * the same checks as {@link leaderPropose} for a local proposal without ConfChange.
   */
  private leaderAppendLocal(ents: Entry[]): void {
    if (this.tracker.own(this.id) === undefined) {
      throw new ProposalDroppedError("this node was removed from the cluster");
    }
    if (this.leadTransferee !== NONE) {
      throw new ProposalDroppedError("leadership transfer in progress");
    }
    this.appendEntries(ents);
    this.pendingBcast = true;
  }

  private leaderPropose(m: Message, local: boolean): void {
    if (m.entries.length === 0) return;
    const drop = (err: Error): void => {
      if (local) throw err;
    };
    if (!this.tracker.progress.has(this.id)) {
      drop(new ProposalDroppedError("this node was removed from the cluster"));
      return;
    }
    if (this.leadTransferee !== NONE) {
      drop(new ProposalDroppedError("leadership transfer in progress"));
      return;
    }
    const ents: Entry[] = [];
    for (let i = 0; i < m.entries.length; i++) {
      const e = m.entries[i]!;
      if (e.type === EntryType.ConfChange) {
        if (this.pendingConfIndex > this.log.applied) {
          if (local) {
            throw new ConfChangeInProgressError(
              `a membership change is pending until index ${this.pendingConfIndex} is applied (applied ${this.log.applied})`,
            );
          }
          continue; // a forwarded change the follower could not know is refused
        }
        if (!local) {
          try {
            this.validateConfChange(decodeConfChange(e.data));
          } catch {
            continue;
          }
        }
        this.pendingConfIndex = this.log.lastIndex() + ents.length + 1;
      }
      ents.push({ index: 0, term: 0, type: e.type, data: e.data });
    }
    if (ents.length === 0) return;
    this.appendEntries(ents);
    // Appends go out when the caller next asks for a Ready, so every proposal made in
    // between travels in the same message (batching, bounded by maxSizePerMsg).
    this.pendingBcast = true;
  }

  private validateConfChange(cc: ConfChange): void {
    const t = this.tracker;
    if (cc.nodeId === NONE) throw new InvalidConfChangeError("node id must not be 0");
    switch (cc.type) {
      case ConfChangeType.AddLearnerNode:
        if (t.voters.has(cc.nodeId)) {
          throw new InvalidConfChangeError(
            `${cc.nodeId.toString(16)} is a voter; demoting to learner is not supported`,
          );
        }
        break;
      case ConfChangeType.RemoveNode:
        if (!t.voters.has(cc.nodeId) && !t.learners.has(cc.nodeId)) {
          throw new InvalidConfChangeError(`${cc.nodeId.toString(16)} is not a member`);
        }
        if (t.voters.has(cc.nodeId) && t.voters.size === 1) {
          throw new InvalidConfChangeError("cannot remove the last voter");
        }
        break;
      case ConfChangeType.UpdateNode:
        if (!t.voters.has(cc.nodeId) && !t.learners.has(cc.nodeId)) {
          throw new InvalidConfChangeError(`${cc.nodeId.toString(16)} is not a member`);
        }
        break;
      default:
        break;
    }
  }

  private stepLeader(m: Message): void {
    const pr = this.tracker.get(m.from);
    switch (m.type) {
      case MessageType.AppResp:
        if (pr !== undefined) this.handleAppendResponse(m, pr);
        return;
      case MessageType.HeartbeatResp:
        if (pr !== undefined) this.handleHeartbeatResponse(m, pr);
        return;
      default:
        return;
    }
  }

  private handleAppendResponse(m: Message, pr: Progress): void {
    pr.recentActive = true;
    if (m.reject) {
      // Fast backtracking: the follower's hint (its last index with a term <= our
      // probe's term) lets us skip a whole term's worth of entries per round trip.
      let nextProbe = m.rejectHint;
      if (m.logTerm > 0) nextProbe = this.log.findConflictByTerm(m.rejectHint, m.logTerm).index;
      if (pr.maybeDecrTo(m.index, nextProbe)) {
        if (pr.state === ProgressState.Replicate) pr.becomeProbe();
        this.sendAppend(m.from, pr);
      }
      return;
    }
    const oldPaused = pr.isPaused();
    if (!pr.maybeUpdate(m.index)) return;
    if (pr.state === ProgressState.Probe) {
      pr.becomeReplicate();
    } else if (pr.state === ProgressState.Snapshot && pr.match >= pr.pendingSnapshot) {
      pr.becomeReplicate();
    } else if (pr.state === ProgressState.Replicate) {
      pr.inflights.freeLE(m.index);
    }
    if (this.maybeCommit()) {
      // Deferred to the next Ready: messages leave only then anyway, and proposals made
      // meanwhile ride in the same appends as the new commit index.
      this.pendingBcast = true;
    } else if (oldPaused) {
      this.sendAppend(m.from, pr);
    }
    // Keep the pipe full while the window allows.
    while (this.maybeSendAppend(m.from, pr, false)) {}
    if (m.from === this.leadTransferee && pr.match === this.log.lastIndex()) {
      this.sendTimeoutNow(m.from);
    }
  }

  private handleHeartbeatResponse(m: Message, pr: Progress): void {
    pr.recentActive = true;
    pr.probeSent = false;
    if (pr.state === ProgressState.Replicate && pr.inflights.full()) {
      // Free one slot so a follower whose acknowledgements were lost can make progress.
      pr.inflights.freeFirstOne();
    }
    if (pr.match < this.log.lastIndex()) this.sendAppend(m.from, pr);
    if (m.context.byteLength === 0) return;
    const key = contextKey(m.context);
    const pending = this.pendingReads.get(key);
    if (pending === undefined) return;
    pending.acks.add(m.from);
    let acks = 0;
    for (const id of pending.acks) if (this.tracker.voters.has(id)) acks++;
    if (acks < this.tracker.quorum()) return;
    // Confirmed: this request and every one queued before it are answered.
    const at = this.readQueue.indexOf(key);
    const done = this.readQueue.splice(0, at + 1);
    for (const k of done) {
      const p = this.pendingReads.get(k);
      this.pendingReads.delete(k);
      if (p !== undefined) this.respondRead(p.req, p.index);
    }
  }

  private leaderReadIndex(m: Message): void {
    if (this.tracker.voters.size === 1 && this.promotable()) {
      this.respondRead(m, this.log.committed);
      return;
    }
    // The leader must know the commit index of its term first (thesis §6.4 step 1).
    if (!this.committedEntryInCurrentTerm()) {
      this.pendingReadIndexMessages.push(m);
      return;
    }
    this.startRead(m);
  }

  private startRead(m: Message): void {
    const key = contextKey(m.context);
    if (this.pendingReads.has(key)) return;
    this.pendingReads.set(key, { index: this.log.committed, req: m, acks: new Set([this.id]) });
    this.readQueue.push(key);
    this.bcastHeartbeat(m.context);
  }

  private respondRead(req: Message, index: number): void {
    if (req.from === NONE || req.from === this.id) {
      this.readStates.push({ index, context: req.context });
    } else {
      this.send(
        newMessage({ type: MessageType.ReadIndexResp, to: req.from, index, context: req.context }),
      );
    }
  }

  private stepForwardedReadIndex(m: Message): void {
    // Only the leader serves it; a request that reached a former leader is dropped
    // (the asking member times out and retries).
    if (this.role === StateRole.Leader) this.leaderReadIndex(m);
  }

  private stepForwardedTransfer(m: Message): void {
    if (this.role === StateRole.Leader) this.leaderTransfer(m);
    else if (this.role === StateRole.Follower && this.lead !== NONE) {
      this.send({ ...m, to: this.lead, term: 0 });
    }
  }

  private leaderTransfer(m: Message): void {
    const transferee = m.from;
    const pr = this.tracker.progress.get(transferee);
    if (pr === undefined || pr.isLearner) return;
    if (this.leadTransferee !== NONE) {
      if (this.leadTransferee === transferee) return;
      this.abortLeaderTransfer();
    }
    if (transferee === this.id) return;
    // The transfer must finish within an election timeout, or it is abandoned.
    this.electionElapsed = 0;
    this.leadTransferee = transferee;
    if (pr.match === this.log.lastIndex()) this.sendTimeoutNow(transferee);
    else this.sendAppend(transferee, pr);
  }

  private abortLeaderTransfer(): void {
    this.leadTransferee = NONE;
  }

  private sendTimeoutNow(to: NodeId): void {
    this.send(newMessage({ type: MessageType.TimeoutNow, to }));
  }

  private stepCandidate(m: Message): void {
    const myResp =
      this.role === StateRole.PreCandidate ? MessageType.PreVoteResp : MessageType.VoteResp;
    switch (m.type) {
      case MessageType.App:
        this.becomeFollower(m.term, m.from);
        this.handleAppend(m);
        return;
      case MessageType.Heartbeat:
        this.becomeFollower(m.term, m.from);
        this.handleHeartbeat(m);
        return;
      case MessageType.Snap:
        this.becomeFollower(m.term, m.from);
        this.handleSnapshot(m);
        return;
      case MessageType.PreVoteResp:
      case MessageType.VoteResp: {
        if (m.type !== myResp) return;
        this.tracker.recordVote(m.from, !m.reject);
        const result = this.tracker.tallyVotes();
        if (result === "won") {
          if (this.role === StateRole.PreCandidate) this.campaignReal(false);
          else {
            this.becomeLeader();
            this.bcastAppend();
          }
        } else if (result === "lost") {
          this.becomeFollower(this.term, NONE);
        }
        return;
      }
      default:
        return;
    }
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case MessageType.App:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleAppend(m);
        return;
      case MessageType.Heartbeat:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleHeartbeat(m);
        return;
      case MessageType.Snap:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleSnapshot(m);
        return;
      case MessageType.TimeoutNow:
        // Leadership transfer: campaign at once, skipping pre-vote and leases.
        this.hup(true);
        return;
      case MessageType.ReadIndexResp:
        this.readStates.push({ index: m.index, context: m.context });
        return;
      default:
        return;
    }
  }

  // ---------------------------------------------------------------- replication

  private handleAppend(m: Message): void {
    if (m.index < this.log.committed) {
      this.sendAppResp(m.from, this.log.committed);
      return;
    }
    const lastNew = this.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (lastNew !== undefined) {
      this.sendAppResp(m.from, lastNew);
      return;
    }
    // Reject with a hint (the largest index <= the probe whose term is <= the probe's
    // term) so the leader can skip every entry that cannot match.
    const hintIndex = Math.min(m.index, this.log.lastIndex());
    const hint = this.log.findConflictByTerm(hintIndex, m.logTerm);
    this.send(
      newMessage({
        type: MessageType.AppResp,
        to: m.from,
        index: m.index,
        reject: true,
        rejectHint: hint.index,
        logTerm: hint.term,
      }),
    );
  }

  /** Acknowledges an append up to `index`. */
  private sendAppResp(to: NodeId, index: number): void {
    this.send(makeMessage(MessageType.AppResp, to, 0, 0, index, [], 0, false, 0, EMPTY));
  }

  private handleHeartbeat(m: Message): void {
    // The leader sends min(match, commit), so this never passes our log's end.
    this.log.commitTo(Math.min(m.commit, this.log.lastIndex()));
    this.send(makeMessage(MessageType.HeartbeatResp, m.from, 0, 0, 0, [], 0, false, 0, m.context));
  }

  private handleSnapshot(m: Message): void {
    const s = m.snapshot;
    if (s === null) return;
    if (this.restore(s)) {
      this.send(newMessage({ type: MessageType.AppResp, to: m.from, index: this.log.lastIndex() }));
    } else {
      this.send(newMessage({ type: MessageType.AppResp, to: m.from, index: this.log.committed }));
    }
  }

  /** Installs a snapshot from the leader; false if it brings nothing new. */
  private restore(s: Snapshot): boolean {
    const { index, term } = s.metadata;
    if (index <= this.log.committed) return false;
    if (this.log.matchTerm(index, term)) {
      // We already hold the snapshot's last entry: just move the commit index.
      this.log.commitTo(index);
      return false;
    }
    this.log.restore(s);
    this.restoreConfState(s.metadata.confState);
    return true;
  }

  private appendEntries(es: Entry[]): void {
    let li = this.log.lastIndex();
    for (const e of es) {
      e.term = this.term;
      e.index = ++li;
    }
    this.log.append(es);
  }

  /** Commits what a quorum has persisted, if it is of the current term (§5.4.2). */
  private maybeCommit(): boolean {
    // Whether the term had a committed entry matters only to reads waiting for one.
    const waiting = this.pendingReadIndexMessages.length > 0;
    const before = waiting && this.committedEntryInCurrentTerm();
    const ok = this.log.maybeCommit(this.tracker.committed(), this.term);
    if (ok && waiting && !before) {
      const queued = this.pendingReadIndexMessages;
      this.pendingReadIndexMessages = [];
      for (const m of queued) this.startRead(m);
    }
    return ok;
  }

  private committedEntryInCurrentTerm(): boolean {
    return this.log.term(this.log.committed) === this.term;
  }

  private flushBcast(): void {
    if (!this.pendingBcast) return;
    this.pendingBcast = false;
    if (this.role === StateRole.Leader) this.bcastAppend();
  }

  private bcastAppend(): void {
    this.pendingBcast = false;
    const { ids, progress } = this.tracker.members();
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (id !== this.id) this.maybeSendAppend(id, progress[i]!, true);
    }
  }

  private bcastHeartbeat(context: Uint8Array): void {
    for (const [id, pr] of this.tracker.progress) {
      if (id === this.id) continue;
      // Never tell a follower to commit past what it is known to hold.
      const commit = Math.min(pr.match, this.log.committed);
      this.send(makeMessage(MessageType.Heartbeat, id, 0, 0, 0, [], commit, false, 0, context));
    }
  }

  private lastPendingReadContext(): Uint8Array {
    const key = this.readQueue[this.readQueue.length - 1];
    if (key === undefined) return EMPTY;
    return this.pendingReads.get(key)?.req.context ?? EMPTY;
  }

  private sendAppend(to: NodeId, pr: Progress): void {
    this.maybeSendAppend(to, pr, true);
  }

  /** Sends an append (or a snapshot) to `to` if its progress allows; true if sent. */
  private maybeSendAppend(to: NodeId, pr: Progress, sendIfEmpty: boolean): boolean {
    if (pr.isPaused()) return false;
    // Nothing new for a follower right behind our last entry (every acknowledgement of
    // a caught-up follower asks): what the general path below would conclude, without
    // its term lookup and empty slice.
    if (!sendIfEmpty && pr.next === this.log.lastIndex() + 1) return false;
    const prevIndex = pr.next - 1;
    const prevTerm = this.log.term(prevIndex);
    let ents: Entry[] | undefined;
    // Checked up front: a lagging follower is common, and exceptions are slow.
    if (prevTerm !== undefined && pr.next >= this.log.firstIndex()) {
      try {
        ents = this.log.entries(pr.next, this.maxSizePerMsg);
      } catch (err) {
        if (!(err instanceof CompactedError)) throw err;
      }
    }
    if (prevTerm === undefined || ents === undefined) {
      // What the follower needs was compacted away: send the snapshot (§7).
      if (!pr.recentActive) return false;
      let snap: Snapshot;
      try {
        snap = this.log.snapshot();
      } catch (err) {
        if (err instanceof SnapshotTemporarilyUnavailableError) return false;
        throw err;
      }
      if (snap.metadata.index === 0)
        throw new RaftInvariantError("need a snapshot but none exists");
      this.send(newMessage({ type: MessageType.Snap, to, snapshot: snap }));
      pr.becomeSnapshot(snap.metadata.index);
      return true;
    }
    if (ents.length === 0 && !sendIfEmpty) return false;
    // Bytes in flight only matter when they are limited.
    let bytes = 0;
    if (this.tracker.maxInflightBytes > 0) for (const e of ents) bytes += entrySize(e);
    this.send(
      makeMessage(
        MessageType.App,
        to,
        0,
        prevTerm,
        prevIndex,
        ents,
        this.log.committed,
        false,
        0,
        EMPTY,
      ),
    );
    pr.sentEntries(ents.length, bytes);
    return true;
  }

  private send(m: Message): void {
    // A transfer request names the transferee in `from` (as etcd's MsgTransferLeader does).
    if (m.type !== MessageType.TransferLeader) m.from = this.id;
    if (
      m.type !== MessageType.Vote &&
      m.type !== MessageType.VoteResp &&
      m.type !== MessageType.PreVote &&
      m.type !== MessageType.PreVoteResp &&
      m.type !== MessageType.Prop &&
      m.type !== MessageType.ReadIndex &&
      m.type !== MessageType.TransferLeader
    ) {
      m.term = this.term;
    }
    this.msgs.push(m);
  }
}
