/**
 * @cairn/raft — a pure, deterministic Raft consensus core (no I/O, timers, clock or
 * global randomness). See README.md for the Ready loop and the guarantees.
 */
export {
  decodeConfChange,
  decodeConfState,
  decodeEntry,
  decodeMessage,
  encodeConfChange,
  encodeConfState,
  encodeEntry,
  encodeMessage,
  MESSAGE_FORMAT,
} from "./codec.js";
export {
  CompactedError,
  ConfChangeInProgressError,
  DecodeError,
  InvalidConfChangeError,
  ProposalDroppedError,
  RaftConfigError,
  RaftError,
  RaftInvariantError,
  SnapshotOutOfDateError,
  SnapshotTemporarilyUnavailableError,
  UnavailableError,
} from "./errors.js";
export { ProgressState } from "./progress.js";
export {
  type BootstrapPeer,
  type RaftConfig,
  RaftNode,
  type RaftStatus,
  type Ready,
} from "./raft.js";
export { type RandomSource, randomInt, seededRandom } from "./random.js";
export {
  cloneConfState,
  entrySize,
  type InitialState,
  type LogView,
  limitSize,
  MemoryLogStorage,
} from "./storage.js";
export {
  type ConfChange,
  ConfChangeType,
  type ConfState,
  type Entry,
  EntryType,
  emptySnapshot,
  formatId,
  type HardState,
  isResponse,
  type Message,
  MessageType,
  NONE,
  type NodeId,
  newMessage,
  type ReadState,
  type Snapshot,
  type SnapshotMetadata,
  type SoftState,
  StateRole,
  stateRoleName,
} from "./types.js";
