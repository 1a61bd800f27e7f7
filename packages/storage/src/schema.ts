/**
 * The on-disk layout of a Cairn data file. Table names starting with `raft_`
 * and `cairn_` belong to this package; state-machine owners create their own
 * tables through `RaftStorage.migrate` under other names.
 */

/**
 * `PRAGMA application_id` of every Cairn data file ("CAIR"), so that a file of
 * another application, or a file that merely is SQLite, is told apart at once
 * (and by `file(1)`-style tools) without reading any table.
 */
export const APPLICATION_ID = 0x43414952;

/**
 * The storage schema version this build writes and reads. Stored twice: in the
 * header (`PRAGMA user_version`, readable before anything else) and as the
 * `schema_version` row of `cairn_meta`.
 */
export const SCHEMA_VERSION = 1;

/** DDL of schema version 1, run in the transaction that creates a data file. */
export const SCHEMA_V1 = `
CREATE TABLE cairn_meta (
  key   TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) STRICT;

-- Raft's persistent state on all servers (Raft paper, Figure 2): currentTerm,
-- votedFor, plus the commit index as etcd keeps it. One row.
CREATE TABLE raft_hard_state (
  id           INTEGER PRIMARY KEY CHECK (id = 1),
  term         INTEGER NOT NULL,
  vote         INTEGER NOT NULL, -- member id as signed 64-bit two's complement
  commit_index INTEGER NOT NULL
) STRICT;
INSERT INTO raft_hard_state (id, term, vote, commit_index) VALUES (1, 0, 0, 0);

-- The log. idx is the rowid, so range reads and suffix truncation walk one b-tree.
-- crc covers index, term, type and data (see entryChecksum).
CREATE TABLE raft_entries (
  idx  INTEGER PRIMARY KEY,
  term INTEGER NOT NULL,
  type INTEGER NOT NULL,
  data BLOB NOT NULL,
  crc  INTEGER NOT NULL
) STRICT;

-- Snapshots: complete = 0 while chunks are still streaming in (a crash leaves
-- such a row behind; it is removed on open), 1 for the one current snapshot.
CREATE TABLE raft_snapshots (
  id          INTEGER PRIMARY KEY,
  idx         INTEGER NOT NULL,
  term        INTEGER NOT NULL,
  conf_state  TEXT NOT NULL,
  complete    INTEGER NOT NULL,
  size        INTEGER NOT NULL DEFAULT 0,
  chunk_count INTEGER NOT NULL DEFAULT 0,
  crc         INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE raft_snapshot_chunks (
  snapshot_id INTEGER NOT NULL REFERENCES raft_snapshots (id) ON DELETE CASCADE,
  seq         INTEGER NOT NULL,
  data        BLOB NOT NULL,
  crc         INTEGER NOT NULL,
  PRIMARY KEY (snapshot_id, seq)
) STRICT;

-- Schema versions of the state-machine owners' own tables (RaftStorage.migrate).
CREATE TABLE cairn_migrations (
  owner   TEXT PRIMARY KEY,
  version INTEGER NOT NULL
) STRICT;
`;

/** Keys of `cairn_meta`. */
export const META = {
  schemaVersion: "schema_version",
  /** Index of the last entry whose effects are in the state tables. */
  appliedIndex: "applied_index",
  /** Index and term of the last entry compacted away (etcd raft's dummy entry). */
  baseIndex: "log_base_index",
  baseTerm: "log_base_term",
} as const;
