/**
 * Our own thin SQLite interface. Every driver adapter (better-sqlite3,
 * bun:sqlite, node:sqlite) implements exactly this, so the log layer and the
 * state-machine owners never see a driver's API.
 *
 * Conventions shared by every driver:
 * - positional `?` parameters only;
 * - rows are plain objects keyed by column name;
 * - every INTEGER column is read as `bigint` (SQLite integers are 64-bit and
 *   member ids use all 64 bits); REAL as `number`, TEXT as `string`, BLOB as
 *   `Uint8Array`, NULL as `null`. Converting to `number` where a value is
 *   known to stay below 2^53 (raft indexes, terms) is the caller's job.
 */

import { SqliteError, StorageClosedError } from "./errors.js";

/** A value SQLite can store or return. */
export type SqlValue = null | bigint | number | string | Uint8Array;

/** One result row: column name to value. */
export type SqlRow = Record<string, SqlValue>;

/** What `run` reports. */
export interface RunResult {
  /** Rows inserted, updated or deleted by the statement. */
  readonly changes: number;
}

/** A prepared statement. Reusable; cheap to run many times. */
export interface SqlStatement {
  /** Every row of the result. */
  all(...params: SqlValue[]): SqlRow[];
  /** The first row of the result, or `undefined`. */
  get(...params: SqlValue[]): SqlRow | undefined;
  /** Runs a statement that returns no rows. */
  run(...params: SqlValue[]): RunResult;
}

/** The drivers this package ships. */
export type DriverName = "better-sqlite3" | "bun:sqlite" | "node:sqlite";

/** An open SQLite connection behind our interface. */
export interface SqlDatabase {
  /** Which driver serves this connection. */
  readonly driver: DriverName;
  /** The file path it was opened with. */
  readonly path: string;
  /** True inside {@link SqlDatabase.transaction}. */
  readonly inTransaction: boolean;
  /** Runs one or more statements that return nothing (DDL, PRAGMA writes). */
  exec(sql: string): void;
  /** Prepares one statement. */
  prepare(sql: string): SqlStatement;
  /**
   * Runs `fn` in a transaction started with `BEGIN IMMEDIATE` (the write lock
   * is taken up front, so a transaction never fails half-way on SQLITE_BUSY),
   * committing when it returns and rolling back when it throws. Nested calls
   * use savepoints. `fn` must be synchronous: a returned Promise is refused
   * (rolled back), since a transaction held across an `await` would swallow
   * unrelated writes made on the same connection meanwhile.
   */
  transaction<T>(fn: () => T): T;
  /** Closes the connection. Idempotent. */
  close(): void;
}

/**
 * The minimal surface an adapter provides; {@link wrapConnection} turns it into
 * a {@link SqlDatabase} with shared transaction and error handling.
 */
export interface RawConnection {
  exec(sql: string): void;
  prepare(sql: string): SqlStatement;
  close(): void;
}

/** SQLite primary result codes, by number, for drivers that report numbers. */
const RESULT_CODE_NAMES: Readonly<Record<number, string>> = {
  1: "SQLITE_ERROR",
  2: "SQLITE_INTERNAL",
  3: "SQLITE_PERM",
  4: "SQLITE_ABORT",
  5: "SQLITE_BUSY",
  6: "SQLITE_LOCKED",
  7: "SQLITE_NOMEM",
  8: "SQLITE_READONLY",
  9: "SQLITE_INTERRUPT",
  10: "SQLITE_IOERR",
  11: "SQLITE_CORRUPT",
  12: "SQLITE_NOTFOUND",
  13: "SQLITE_FULL",
  14: "SQLITE_CANTOPEN",
  15: "SQLITE_PROTOCOL",
  16: "SQLITE_EMPTY",
  17: "SQLITE_SCHEMA",
  18: "SQLITE_TOOBIG",
  19: "SQLITE_CONSTRAINT",
  20: "SQLITE_MISMATCH",
  21: "SQLITE_MISUSE",
  22: "SQLITE_NOLFS",
  23: "SQLITE_AUTH",
  24: "SQLITE_FORMAT",
  25: "SQLITE_RANGE",
  26: "SQLITE_NOTADB",
};

/** Messages SQLite uses for its primary codes (sqlite3ErrStr), for drivers that report only text. */
const RESULT_CODE_BY_MESSAGE: ReadonlyArray<readonly [RegExp, string]> = [
  [/database is locked/i, "SQLITE_BUSY"],
  [/database table is locked/i, "SQLITE_LOCKED"],
  [/file is not a database|file is encrypted/i, "SQLITE_NOTADB"],
  [/database disk image is malformed/i, "SQLITE_CORRUPT"],
  [/disk I\/O error/i, "SQLITE_IOERR"],
  [/unable to open database file/i, "SQLITE_CANTOPEN"],
  [/constraint failed/i, "SQLITE_CONSTRAINT"],
  [/database or disk is full/i, "SQLITE_FULL"],
  [/attempt to write a readonly database/i, "SQLITE_READONLY"],
];

/**
 * Maps whatever a driver threw to a {@link SqliteError} carrying SQLite's
 * primary result code name. better-sqlite3 and bun:sqlite put an extended
 * code name in `code` (`SQLITE_CORRUPT_VTAB`); node:sqlite puts the extended
 * code number in `errcode`.
 */
export function toSqliteError(error: unknown, context: string): SqliteError {
  if (error instanceof SqliteError) return error;
  const e = (typeof error === "object" && error !== null ? error : {}) as {
    code?: unknown;
    errcode?: unknown;
    errno?: unknown;
    message?: unknown;
  };
  const message = typeof e.message === "string" ? e.message : String(error);
  let code: string | undefined;
  if (typeof e.code === "string" && e.code.startsWith("SQLITE_")) {
    // Extended codes are the primary name plus a suffix; keep the primary one.
    code = Object.values(RESULT_CODE_NAMES).find(
      (name) => e.code === name || (e.code as string).startsWith(`${name}_`),
    );
  }
  const numeric =
    typeof e.errcode === "number" ? e.errcode : typeof e.errno === "number" ? e.errno : undefined;
  if (code === undefined && numeric !== undefined) {
    code = RESULT_CODE_NAMES[numeric & 0xff];
  }
  if (code === undefined) {
    code = RESULT_CODE_BY_MESSAGE.find(([re]) => re.test(message))?.[1];
  }
  return new SqliteError(code ?? "SQLITE_ERROR", `${context}: ${message}`, { cause: error });
}

function guard<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    throw toSqliteError(error, what);
  }
}

// Spelled out rather than through guard(): no closure per call on the hot path.
function wrapStatement(raw: SqlStatement, sql: string): SqlStatement {
  return {
    all(...params) {
      try {
        return raw.all(...params);
      } catch (error) {
        throw toSqliteError(error, sql);
      }
    },
    get(...params) {
      try {
        return raw.get(...params);
      } catch (error) {
        throw toSqliteError(error, sql);
      }
    },
    run(...params) {
      try {
        return raw.run(...params);
      } catch (error) {
        throw toSqliteError(error, sql);
      }
    },
  };
}

/**
 * Builds a {@link SqlDatabase} from an adapter's raw connection: shared
 * `BEGIN IMMEDIATE` transactions with savepoints for nesting, errors mapped to
 * {@link SqliteError}, use after close refused.
 */
export function wrapConnection(raw: RawConnection, driver: DriverName, path: string): SqlDatabase {
  let depth = 0;
  let closed = false;
  const check = () => {
    if (closed) throw new StorageClosedError(path);
  };
  const db: SqlDatabase = {
    driver,
    path,
    get inTransaction() {
      return depth > 0;
    },
    exec(sql) {
      check();
      guard(sql, () => raw.exec(sql));
    },
    prepare(sql) {
      check();
      return wrapStatement(
        guard(sql, () => raw.prepare(sql)),
        sql,
      );
    },
    transaction<T>(fn: () => T): T {
      check();
      const level = depth;
      const savepoint = `cairn_sp_${level}`;
      guard("begin", () => raw.exec(level === 0 ? "BEGIN IMMEDIATE" : `SAVEPOINT ${savepoint}`));
      depth++;
      let result: T;
      try {
        result = fn();
        if (
          typeof result === "object" &&
          result !== null &&
          typeof (result as { then?: unknown }).then === "function"
        ) {
          throw new TypeError("transaction callback must be synchronous (it returned a Promise)");
        }
      } catch (error) {
        depth--;
        try {
          raw.exec(level === 0 ? "ROLLBACK" : `ROLLBACK TO ${savepoint}; RELEASE ${savepoint}`);
        } catch {
          // SQLite may already have rolled back (e.g. after SQLITE_FULL); the original error matters.
        }
        throw error;
      }
      depth--;
      try {
        guard("commit", () => raw.exec(level === 0 ? "COMMIT" : `RELEASE ${savepoint}`));
      } catch (error) {
        if (level === 0) {
          try {
            raw.exec("ROLLBACK");
          } catch {
            // nothing left to roll back
          }
        }
        throw error;
      }
      return result;
    },
    close() {
      if (closed) return;
      closed = true;
      raw.close();
    },
  };
  return db;
}
