/**
 * The values Raft exchanges with its caller and with its peers. Shapes follow
 * etcd-io/raft's `raftpb` where Cairn needs the same information, so the
 * behaviour of a Cairn member can be reasoned about with etcd's write-ups.
 */

/** A member id. etcd member ids are 64-bit, so ids are `bigint`; `0n` means "none". */
export type NodeId = bigint;

/** The id that means "no node" (no leader known, no vote cast). */
export const NONE: NodeId = 0n;

/** What an entry carries: an opaque command, or a membership change for the caller to apply. */
export const EntryType = {
  /** An opaque command for the state machine (empty data: the leader's no-op of a new term). */
  Normal: 0,
  /** An encoded {@link ConfChange} (see `encodeConfChange`); apply it with `applyConfChange`. */
  ConfChange: 1,
} as const;
/** One of {@link EntryType}'s values. */
export type EntryType = (typeof EntryType)[keyof typeof EntryType];

/** One log entry. `index` and `term` are plain numbers (exact up to 2^53). */
export interface Entry {
  index: number;
  term: number;
  type: EntryType;
  data: Uint8Array;
}

/** The configuration: who votes and who only learns. */
export interface ConfState {
  voters: NodeId[];
  learners: NodeId[];
}

/** Where a snapshot sits in the log, and the configuration at that point. */
export interface SnapshotMetadata {
  index: number;
  term: number;
  confState: ConfState;
}

/** A snapshot of the caller's state machine; `data` is opaque to Raft. */
export interface Snapshot {
  metadata: SnapshotMetadata;
  data: Uint8Array;
}

/** What must survive a crash besides the log (Raft paper, Figure 2 "persistent state"). */
export interface HardState {
  term: number;
  vote: NodeId;
  commit: number;
}

/** The kinds of membership change. One change is in flight at a time (see README). */
export const ConfChangeType = {
  /** Add a voter, or promote a learner to voter. */
  AddNode: 0,
  /** Remove a voter or a learner. */
  RemoveNode: 1,
  /** Change nothing in Raft; carries the caller's update (etcd uses it for peer URLs). */
  UpdateNode: 2,
  /** Add a learner: it receives the log but neither votes nor counts for commitment. */
  AddLearnerNode: 3,
} as const;
/** One of {@link ConfChangeType}'s values. */
export type ConfChangeType = (typeof ConfChangeType)[keyof typeof ConfChangeType];

/** A membership change, proposed with `proposeConfChange` and applied with `applyConfChange`. */
export interface ConfChange {
  type: ConfChangeType;
  nodeId: NodeId;
  /** Opaque to Raft; etcd puts the member's JSON (name, peer URLs) here. */
  context: Uint8Array;
}

/** The role a node plays. */
export const StateRole = {
  Follower: 0,
  Candidate: 1,
  Leader: 2,
  PreCandidate: 3,
} as const;
/** One of {@link StateRole}'s values. */
export type StateRole = (typeof StateRole)[keyof typeof StateRole];

/** The role names, for logs and status output. */
export const stateRoleName: Record<StateRole, string> = {
  0: "follower",
  1: "candidate",
  2: "leader",
  3: "pre-candidate",
};

/** Volatile state worth telling the caller about (not persisted). */
export interface SoftState {
  lead: NodeId;
  role: StateRole;
}

/** The answer to a `readIndex` request: once `index` is applied, a read is linearizable. */
export interface ReadState {
  index: number;
  /** The context given to `readIndex`, returned as is so the caller can match it. */
  context: Uint8Array;
}

/** Kinds of messages between peers. Numbers are stable: they are on the wire. */
export const MessageType = {
  /** Append entries (Raft paper §5.3); also the probe after a rejection. */
  App: 1,
  AppResp: 2,
  /** Request vote (§5.2). */
  Vote: 3,
  VoteResp: 4,
  /** Pre-vote (thesis §9.6): would you vote for me? Changes no term. */
  PreVote: 5,
  PreVoteResp: 6,
  /** Heartbeat: carries the commit index and, for ReadIndex, a context. */
  Heartbeat: 7,
  HeartbeatResp: 8,
  /** InstallSnapshot (§7). */
  Snap: 9,
  /** Leadership transfer (thesis §3.10): campaign now, ignoring the election timeout. */
  TimeoutNow: 10,
  /** A follower's ReadIndex request forwarded to the leader. */
  ReadIndex: 11,
  ReadIndexResp: 12,
  /** A follower's proposal forwarded to the leader. */
  Prop: 13,
  /** A follower's leadership transfer request forwarded to the leader. */
  TransferLeader: 14,
} as const;
/** One of {@link MessageType}'s values. */
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

/** A message between peers. Fields a type does not use are zero / empty. */
export interface Message {
  type: MessageType;
  from: NodeId;
  to: NodeId;
  term: number;
  /** App: term of the entry at `index`. Vote: term of the candidate's last entry. */
  logTerm: number;
  /** App: index preceding `entries`. AppResp: last matching index (or rejected index). */
  index: number;
  entries: Entry[];
  commit: number;
  reject: boolean;
  /** AppResp rejection: the follower's hint of where the logs may agree. */
  rejectHint: number;
  snapshot: Snapshot | null;
  context: Uint8Array;
}

const EMPTY = new Uint8Array(0);

/** Builds a message with every field present (a stable shape keeps the engine fast). */
export function newMessage(fields: Partial<Message> & Pick<Message, "type" | "to">): Message {
  return {
    type: fields.type,
    from: fields.from ?? NONE,
    to: fields.to,
    term: fields.term ?? 0,
    logTerm: fields.logTerm ?? 0,
    index: fields.index ?? 0,
    entries: fields.entries ?? [],
    commit: fields.commit ?? 0,
    reject: fields.reject ?? false,
    rejectHint: fields.rejectHint ?? 0,
    snapshot: fields.snapshot ?? null,
    context: fields.context ?? EMPTY,
  };
}

/**
 * Builds a message from every field, in {@link Message}'s order: the hot paths (appends
 * and their acknowledgements) use it instead of {@link newMessage}, which first builds
 * a partial object and then the message, two allocations per message.
 * @internal Not exported from the package.
 */
export function makeMessage(
  type: MessageType,
  to: NodeId,
  term: number,
  logTerm: number,
  index: number,
  entries: Entry[],
  commit: number,
  reject: boolean,
  rejectHint: number,
  context: Uint8Array,
): Message {
  return {
    type,
    from: NONE,
    to,
    term,
    logTerm,
    index,
    entries,
    commit,
    reject,
    rejectHint,
    snapshot: null,
    context,
  };
}

/** An empty snapshot (index 0), the state of a log that was never compacted. */
export function emptySnapshot(): Snapshot {
  return {
    metadata: { index: 0, term: 0, confState: { voters: [], learners: [] } },
    data: EMPTY,
  };
}

/** True for the messages that answer another message rather than start an exchange. */
export function isResponse(type: MessageType): boolean {
  return (
    type === MessageType.AppResp ||
    type === MessageType.VoteResp ||
    type === MessageType.PreVoteResp ||
    type === MessageType.HeartbeatResp ||
    type === MessageType.ReadIndexResp
  );
}

/** Formats an id the way etcd prints member ids: lowercase hex, no padding. */
export function formatId(id: NodeId): string {
  return id.toString(16);
}
