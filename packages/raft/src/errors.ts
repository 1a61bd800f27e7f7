/** Typed errors of the Raft core. Each condition has its own class and a stable `code`. */

/** Base class: every error this package throws is a `RaftError`. */
export class RaftError extends Error {
  /** A stable, machine-readable code. */
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "RaftError";
    this.code = code;
  }
}

/**
 * A proposal (or ReadIndex, or transfer request) could not be accepted: no leader is
 * known, forwarding to the leader is switched off, a leadership transfer is under way,
 * or this node was removed. The caller may retry later; nothing was appended.
 */
export class ProposalDroppedError extends RaftError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("ERAFT_PROPOSAL_DROPPED", message, options);
    this.name = "ProposalDroppedError";
  }
}

/**
 * A membership change was refused because the previous one is not applied yet
 * (one change at a time, see README "Membership").
 */
export class ConfChangeInProgressError extends RaftError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("ERAFT_CONF_CHANGE_IN_PROGRESS", message, options);
    this.name = "ConfChangeInProgressError";
  }
}

/** A membership change makes no sense (unknown node, demoting a voter, emptying the cluster). */
export class InvalidConfChangeError extends RaftError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("ERAFT_INVALID_CONF_CHANGE", message, options);
    this.name = "InvalidConfChangeError";
  }
}

/** A log view was asked for entries that were compacted away behind a snapshot. */
export class CompactedError extends RaftError {
  constructor(message = "requested index is compacted", options?: { cause?: unknown }) {
    super("ERAFT_COMPACTED", message, options);
    this.name = "CompactedError";
  }
}

/** A log view was asked for entries past its last index. */
export class UnavailableError extends RaftError {
  constructor(message = "requested entry is not available", options?: { cause?: unknown }) {
    super("ERAFT_UNAVAILABLE", message, options);
    this.name = "UnavailableError";
  }
}

/** A snapshot is being made; the leader retries sending one on a later heartbeat. */
export class SnapshotTemporarilyUnavailableError extends RaftError {
  constructor(message = "snapshot is temporarily unavailable", options?: { cause?: unknown }) {
    super("ERAFT_SNAPSHOT_UNAVAILABLE", message, options);
    this.name = "SnapshotTemporarilyUnavailableError";
  }
}

/** A snapshot given to a log storage is older than the one it holds. */
export class SnapshotOutOfDateError extends RaftError {
  constructor(message = "snapshot is out of date", options?: { cause?: unknown }) {
    super("ERAFT_SNAPSHOT_OUT_OF_DATE", message, options);
    this.name = "SnapshotOutOfDateError";
  }
}

/** The node was configured or driven against its contract (a bug in the caller). */
export class RaftConfigError extends RaftError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("ERAFT_CONFIG", message, options);
    this.name = "RaftConfigError";
  }
}

/** A byte string is not a valid encoding of what the codec was asked to decode. */
export class DecodeError extends RaftError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("ERAFT_DECODE", message, options);
    this.name = "DecodeError";
  }
}

/** The log or state broke an invariant Raft relies on; the node must not continue. */
export class RaftInvariantError extends RaftError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("ERAFT_INVARIANT", message, options);
    this.name = "RaftInvariantError";
  }
}
