/**
 * @cairn/storage: Cairn's durable state on SQLite — the raft log (our WAL)
 * and hard state, streamed snapshots, and the applied index kept in the same
 * transaction as the state it covers. Runs on Node (better-sqlite3), Bun
 * (bun:sqlite) and Deno (node:sqlite); drivers are also subpath exports.
 */

export {
  type BackupOptions,
  type BackupProgress,
  type BackupResult,
  backupDatabase,
} from "./backup.js";
export type {
  DriverName,
  RunResult,
  SqlDatabase,
  SqlRow,
  SqlStatement,
  SqlValue,
} from "./driver.js";
export {
  BackupTargetExistsError,
  CorruptionError,
  DataDirLockedError,
  DataFileMissingError,
  DriverUnavailableError,
  InvalidLogOperationError,
  LogCompactedError,
  LogUnavailableError,
  NotCairnDataError,
  SchemaTooNewError,
  SnapshotOutOfDateError,
  SnapshotSupersededError,
  SqliteError,
  StorageClosedError,
  StorageError,
} from "./errors.js";
export {
  applyStandardPragmas,
  DEFAULT_BUSY_TIMEOUT_MS,
  defaultDriver,
  type OpenDatabaseOptions,
  openDatabase,
  type RuntimeName,
  runtime,
  standardPragmas,
} from "./open.js";
export { APPLICATION_ID, SCHEMA_VERSION } from "./schema.js";
export {
  type ChunkSource,
  type ConfState,
  type Entry,
  type HardState,
  type InstallSnapshotOptions,
  type IntegrityCheck,
  lockPath,
  type Migration,
  type OpenStorageOptions,
  openStorage,
  RaftStorage,
  type SnapshotMetadata,
  type SnapshotReader,
} from "./storage.js";
