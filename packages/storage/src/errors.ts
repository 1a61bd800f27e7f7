/**
 * One error class per condition, each with a stable `code` (what callers and
 * tests branch on) and the underlying cause chained. Messages name the file.
 */

/** Base class of every error this package throws. */
export class StorageError extends Error {
  /** Stable machine-readable code, e.g. `ERR_STORAGE_LOCKED`. */
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "StorageError";
    this.code = code;
  }
}

/**
 * An error reported by SQLite itself, normalised across drivers: `sqliteCode`
 * is SQLite's result code name (`SQLITE_BUSY`, `SQLITE_CORRUPT`, …) whatever
 * shape the driver used.
 */
export class SqliteError extends StorageError {
  /** SQLite's primary result code name, e.g. `SQLITE_BUSY`, or `SQLITE_ERROR` when unknown. */
  readonly sqliteCode: string;
  constructor(sqliteCode: string, message: string, options?: ErrorOptions) {
    super("ERR_SQLITE", message, options);
    this.name = "SqliteError";
    this.sqliteCode = sqliteCode;
  }
}

/** The requested driver cannot be loaded in this runtime (e.g. `bun:sqlite` under Node). */
export class DriverUnavailableError extends StorageError {
  constructor(message: string, options?: ErrorOptions) {
    super("ERR_STORAGE_DRIVER_UNAVAILABLE", message, options);
    this.name = "DriverUnavailableError";
  }
}

/** Another live process (another member) holds the data file. Nothing was changed. */
export class DataDirLockedError extends StorageError {
  readonly path: string;
  constructor(path: string, options?: ErrorOptions) {
    super(
      "ERR_STORAGE_LOCKED",
      `${path}: the data file is held by another live process (is another member running on this data dir?)`,
      options,
    );
    this.name = "DataDirLockedError";
    this.path = path;
  }
}

/** The file exists but is not a Cairn data file (not SQLite, or another application's). Nothing was changed. */
export class NotCairnDataError extends StorageError {
  readonly path: string;
  constructor(path: string, detail: string, options?: ErrorOptions) {
    super("ERR_STORAGE_NOT_CAIRN", `${path}: not a Cairn data file (${detail})`, options);
    this.name = "NotCairnDataError";
    this.path = path;
  }
}

/** The file was written by a newer Cairn (or a newer state-machine schema). Nothing was changed. */
export class SchemaTooNewError extends StorageError {
  readonly path: string;
  readonly found: number;
  readonly supported: number;
  constructor(path: string, what: string, found: number, supported: number) {
    super(
      "ERR_STORAGE_SCHEMA_TOO_NEW",
      `${path}: ${what} schema version ${found} is newer than this build supports (${supported}); upgrade Cairn`,
    );
    this.name = "SchemaTooNewError";
    this.path = path;
    this.found = found;
    this.supported = supported;
  }
}

/** Damage detected: a failed integrity check, a checksum mismatch, a missing row. */
export class CorruptionError extends StorageError {
  readonly path: string;
  constructor(path: string, detail: string, options?: ErrorOptions) {
    super("ERR_STORAGE_CORRUPT", `${path}: data file is corrupt: ${detail}`, options);
    this.name = "CorruptionError";
    this.path = path;
  }
}

/**
 * The requested index is at or before the compacted prefix of the log
 * (etcd raft's `ErrCompacted`): the caller needs the snapshot instead.
 */
export class LogCompactedError extends StorageError {
  readonly index: number;
  constructor(index: number, firstIndex: number) {
    super(
      "ERR_STORAGE_COMPACTED",
      `log index ${index} is compacted (first available index is ${firstIndex})`,
    );
    this.name = "LogCompactedError";
    this.index = index;
  }
}

/** The requested index is past the last entry (etcd raft's `ErrUnavailable`). */
export class LogUnavailableError extends StorageError {
  readonly index: number;
  constructor(index: number, lastIndex: number) {
    super(
      "ERR_STORAGE_UNAVAILABLE",
      `log index ${index} is not available (last index is ${lastIndex})`,
    );
    this.name = "LogUnavailableError";
    this.index = index;
  }
}

/** A call that would break a log invariant (a gap, a non-contiguous batch, a term going back). Nothing was written. */
export class InvalidLogOperationError extends StorageError {
  constructor(message: string) {
    super("ERR_STORAGE_INVALID_OPERATION", message);
    this.name = "InvalidLogOperationError";
  }
}

/** A snapshot older than (or as old as) the one stored (etcd raft's `ErrSnapOutOfDate`). Nothing was written. */
export class SnapshotOutOfDateError extends StorageError {
  constructor(index: number, current: number) {
    super(
      "ERR_STORAGE_SNAPSHOT_OUT_OF_DATE",
      `snapshot at index ${index} is not newer than the stored snapshot at index ${current}`,
    );
    this.name = "SnapshotOutOfDateError";
  }
}

/** A snapshot being read was replaced by a newer one before the reader finished. */
export class SnapshotSupersededError extends StorageError {
  constructor(index: number) {
    super(
      "ERR_STORAGE_SNAPSHOT_SUPERSEDED",
      `snapshot at index ${index} was replaced while it was being read`,
    );
    this.name = "SnapshotSupersededError";
  }
}

/** The storage (or database) was used after `close()`. */
export class StorageClosedError extends StorageError {
  constructor(path: string) {
    super("ERR_STORAGE_CLOSED", `${path}: storage is closed`);
    this.name = "StorageClosedError";
  }
}

/** A backup was asked of a data file that does not exist. Nothing was created. */
export class DataFileMissingError extends StorageError {
  readonly path: string;
  constructor(path: string, options?: ErrorOptions) {
    super("ERR_STORAGE_MISSING", `${path}: no such data file`, options);
    this.name = "DataFileMissingError";
    this.path = path;
  }
}

/** A backup would overwrite an existing file. Nothing was changed. */
export class BackupTargetExistsError extends StorageError {
  readonly path: string;
  constructor(path: string, options?: ErrorOptions) {
    super("ERR_STORAGE_TARGET_EXISTS", `${path}: the backup target already exists`, options);
    this.name = "BackupTargetExistsError";
    this.path = path;
  }
}
