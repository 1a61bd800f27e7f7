/**
 * The raft log, hard state, snapshots and applied state of one member, in one
 * SQLite file. Reads follow etcd raft's `Storage` shape (initial state,
 * entries, term, first/last index, snapshot) so the server can hand this to
 * the raft core; writes are durable when they return.
 */

import {
  closeSync,
  existsSync,
  fdatasync,
  fdatasyncSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readlinkSync,
  realpathSync,
  statSync,
} from "node:fs";
import { dirname, resolve } from "node:path";
import { kill, pid } from "node:process";
import { crc32 } from "./crc32.js";
import type { DriverName, SqlDatabase, SqlRow, SqlStatement, SqlValue } from "./driver.js";
import {
  CorruptionError,
  DataDirLockedError,
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
import { DEFAULT_BUSY_TIMEOUT_MS, openDatabase, standardPragmas } from "./open.js";
import { APPLICATION_ID, META, SCHEMA_V1, SCHEMA_VERSION } from "./schema.js";

/** One raft log entry. `index` and `term` stay below 2^53 in any real cluster. */
export interface Entry {
  index: number;
  term: number;
  /** Entry type as the raft core numbers it (normal, conf change, …). */
  type: number;
  data: Uint8Array;
}

/** Raft's persistent per-server state (Raft paper, Figure 2) plus the commit index. */
export interface HardState {
  term: number;
  /** Member id voted for in `term`; 0n for none. Unsigned 64-bit. */
  vote: bigint;
  commit: number;
}

/** Membership configuration, as etcd raft's ConfState. Member ids are unsigned 64-bit. */
export interface ConfState {
  voters: bigint[];
  learners: bigint[];
  /** Voters of the outgoing configuration during a joint change. */
  votersOutgoing?: bigint[];
  /** Voters that become learners when the joint change completes. */
  learnersNext?: bigint[];
  /** Leave the joint configuration automatically. */
  autoLeave?: boolean;
}

/** What a snapshot covers: the log up to `index` (at `term`) and the membership then. */
export interface SnapshotMetadata {
  index: number;
  term: number;
  confState: ConfState;
}

/**
 * Snapshot data as it arrives: any sync or async iterable of chunks, or a Web
 * `ReadableStream`. Chunks are consumed one at a time; none is kept after it
 * is written.
 */
export type ChunkSource =
  | AsyncIterable<Uint8Array>
  | Iterable<Uint8Array>
  | ReadableStream<Uint8Array>;

/** A stored snapshot: metadata now, data on demand, chunk by chunk, checksums verified. */
export interface SnapshotReader {
  readonly metadata: SnapshotMetadata;
  /** Total bytes of the data. */
  readonly size: number;
  /** The data, one stored chunk at a time. */
  chunks(): AsyncIterableIterator<Uint8Array>;
  /** The same as a Web stream. */
  stream(): ReadableStream<Uint8Array>;
  /** The same, synchronously (for use inside a transaction). */
  chunksSync(): IterableIterator<Uint8Array>;
}

/** Options of {@link installSnapshot}. */
export interface InstallSnapshotOptions {
  /** Hard state to write in the same transaction (raft's Ready usually carries one). */
  hardState?: HardState;
  /**
   * Rebuilds the caller's state tables from the snapshot data, inside the
   * transaction that installs it, so state and applied index change together.
   */
  restore?: (db: SqlDatabase, data: Iterable<Uint8Array>) => void;
}

/** One state-machine schema step (see {@link RaftStorage.migrate}). */
export type Migration = (db: SqlDatabase) => void;

/** How thoroughly the file is checked when it is opened. */
export type IntegrityCheck = "quick" | "full" | "none";

/** Options of {@link openStorage}. */
export interface OpenStorageOptions {
  /** SQLite driver; defaults to the runtime's (see `defaultDriver`). */
  driver?: DriverName;
  /**
   * Entries kept behind a compaction point so slow followers can catch up from
   * the log instead of a snapshot (etcd's snapshot catch-up entries; default 5000).
   */
  compactionMargin?: number;
  /** Size of stored snapshot chunks in bytes (default 1 MiB). */
  snapshotChunkSize?: number;
  /**
   * Integrity check on open: `quick` (default; `PRAGMA quick_check`, O(file size)),
   * `full` (`PRAGMA integrity_check`, also verifies indexes), `none`.
   */
  integrityCheck?: IntegrityCheck;
  /** SQLite busy timeout once open (default 5000 ms). */
  busyTimeoutMs?: number;
}

/** The current snapshot's row, cached. */
interface StoredSnapshot {
  id: number;
  metadata: SnapshotMetadata;
  size: number;
  chunks: number;
  crc: number;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Rows per multi-row INSERT (5 parameters each, far below SQLite's variable limit). */
const INSERT_ROWS = 64;

/** Largest page of entries {@link RaftStorage.entries} reads in one query when bounded. */
const MAX_PAGE_ROWS = 2048;

const EMPTY_CONF: ConfState = { voters: [], learners: [] };
const EMPTY_BYTES = new Uint8Array(0);

/** Paths open in this process: SQLite's lock does not stop a second connection from another SQLite copy in the same process. */
const openPaths = new Set<string>();

function toNumber(value: SqlValue | undefined, what: string, path: string): number {
  if (typeof value === "number" && Number.isSafeInteger(value)) return value;
  if (typeof value === "bigint" && value >= -MAX_SAFE && value <= MAX_SAFE) return Number(value);
  throw new CorruptionError(path, `${what} is not a safe integer: ${String(value)}`);
}

function toBytes(value: SqlValue | undefined, what: string, path: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new CorruptionError(path, `${what} is not a blob`);
  // better-sqlite3 hands out Buffers; callers get plain Uint8Array views (no copy).
  return value.constructor === Uint8Array
    ? value
    : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
}

/** Unsigned 64-bit id <-> SQLite's signed INTEGER (two's complement). */
function idToSql(id: bigint): bigint {
  return BigInt.asIntN(64, id);
}
function idFromSql(value: SqlValue | undefined): bigint {
  return BigInt.asUintN(64, typeof value === "bigint" ? value : BigInt(value as number));
}

const headerScratch = new DataView(new ArrayBuffer(20));
const headerBytes = new Uint8Array(headerScratch.buffer);

/** CRC-32 over index, term and type (little-endian) then data: a moved or retyped entry fails too. */
function entryChecksum(index: number, term: number, type: number, data: Uint8Array): number {
  headerScratch.setFloat64(0, index, true);
  headerScratch.setFloat64(8, term, true);
  headerScratch.setInt32(16, type, true);
  return crc32(data, crc32(headerBytes));
}

function isSafeIndex(n: unknown): n is number {
  return typeof n === "number" && Number.isSafeInteger(n) && n >= 0;
}

function checkId(id: bigint, what: string): void {
  if (typeof id !== "bigint" || id < 0n || id >= 1n << 64n) {
    throw new InvalidLogOperationError(
      `${what} must be an unsigned 64-bit bigint, got ${String(id)}`,
    );
  }
}

function confToJson(conf: ConfState): string {
  const ids = (list: readonly bigint[] | undefined, what: string) =>
    (list ?? []).map((id) => {
      checkId(id, what);
      return id.toString(16);
    });
  const out: Record<string, unknown> = {
    voters: ids(conf.voters, "voter id"),
    learners: ids(conf.learners, "learner id"),
  };
  if (conf.votersOutgoing !== undefined) out.votersOutgoing = ids(conf.votersOutgoing, "voter id");
  if (conf.learnersNext !== undefined) out.learnersNext = ids(conf.learnersNext, "learner id");
  if (conf.autoLeave !== undefined) out.autoLeave = conf.autoLeave;
  return JSON.stringify(out);
}

function confFromJson(text: SqlValue | undefined, path: string): ConfState {
  try {
    const raw = JSON.parse(String(text)) as Record<string, unknown>;
    const ids = (v: unknown) => (v as string[]).map((hex) => BigInt(`0x${hex}`));
    const conf: ConfState = { voters: ids(raw.voters), learners: ids(raw.learners) };
    if (raw.votersOutgoing !== undefined) conf.votersOutgoing = ids(raw.votersOutgoing);
    if (raw.learnersNext !== undefined) conf.learnersNext = ids(raw.learnersNext);
    if (raw.autoLeave !== undefined) conf.autoLeave = raw.autoLeave === true;
    return conf;
  } catch (error) {
    throw new CorruptionError(path, "snapshot configuration is unreadable", { cause: error });
  }
}

/** Yields the chunks of any {@link ChunkSource}. */
async function* iterateSource(source: ChunkSource): AsyncGenerator<Uint8Array> {
  if (typeof (source as ReadableStream<Uint8Array>).getReader === "function") {
    const reader = (source as ReadableStream<Uint8Array>).getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        yield value;
      }
    } finally {
      reader.releaseLock();
    }
  }
  yield* source as AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
}

/** Maps SQLite's own complaints during open to our typed errors. */
function classifyOpenError(error: unknown, path: string): unknown {
  if (error instanceof SqliteError) {
    switch (error.sqliteCode) {
      case "SQLITE_BUSY":
      case "SQLITE_LOCKED":
        return new DataDirLockedError(path, { cause: error });
      case "SQLITE_NOTADB":
        return new NotCairnDataError(path, "not an SQLite database, or its header is damaged", {
          cause: error,
        });
      case "SQLITE_CORRUPT":
        return new CorruptionError(path, error.message, { cause: error });
    }
  }
  return error;
}

/**
 * Opens (creating if missing) the data file at `path` and checks it before
 * anything is written: it must be ours, of a schema this build knows, not held
 * by another process, and undamaged. Each failure is a typed error
 * ({@link NotCairnDataError}, {@link SchemaTooNewError},
 * {@link DataDirLockedError}, {@link CorruptionError}) and leaves the file as
 * it was.
 *
 * One live opener per file: a tiny companion SQLite file, `<path>.lock`, is
 * held with `locking_mode=EXCLUSIVE` for as long as the storage is open (see
 * {@link acquireLock}). The data file itself runs in ordinary WAL locking, so
 * another process can read a consistent view of a live member's file
 * ({@link backupDatabase}) while the member writes.
 */
export async function openStorage(
  path: string,
  options: OpenStorageOptions = {},
): Promise<RaftStorage> {
  const file = resolve(path);
  mkdirSync(dirname(file), { recursive: true });
  const existed = existsSync(file) && statSync(file).size > 0;
  const key = realpathSync(dirname(file)) + file.slice(dirname(file).length);
  if (openPaths.has(key)) throw new DataDirLockedError(file);
  // Claimed before the first await, so two concurrent opens cannot both pass.
  openPaths.add(key);
  let db: SqlDatabase | undefined;
  let lock: SqlDatabase | undefined;
  try {
    const driverOptions = options.driver === undefined ? {} : { driver: options.driver };
    lock = await acquireLock(file, driverOptions);
    db = await openDatabase(file, { ...driverOptions, pragmas: false });
    const storage = initialize(db, file, existed, options);
    const held = lock;
    storage.onClose(() => {
      held.close();
      openPaths.delete(key);
    });
    return storage;
  } catch (error) {
    openPaths.delete(key);
    db?.close();
    lock?.close();
    throw classifyOpenError(error, file);
  }
}

/**
 * True when process `holder` (a pid recorded in the lock file) is alive and,
 * where /proc shows it (Linux), has `dataFile` open: a reused pid of an
 * unrelated process does not count. Without /proc, a live pid counts.
 */
function holderAlive(holder: number, dataFile: string): boolean {
  if (!Number.isSafeInteger(holder) || holder <= 0 || holder === pid) return false;
  try {
    kill(holder, 0);
  } catch (error) {
    // EPERM: alive, but another user's; ESRCH: gone.
    return (error as { code?: string }).code === "EPERM";
  }
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${holder}/fd`);
  } catch {
    return true;
  }
  let target: string;
  try {
    target = realpathSync(dataFile);
  } catch {
    return false; // no data file yet: nobody has it open
  }
  return fds.some((fd) => {
    try {
      return readlinkSync(`/proc/${holder}/fd/${fd}`) === target;
    } catch {
      return false;
    }
  });
}

/** The companion file whose lock says "a live process has this data file open". */
export function lockPath(dataFile: string): string {
  return `${dataFile}.lock`;
}

/**
 * Takes the data file's lock: `<file>.lock` opened with
 * `locking_mode=EXCLUSIVE` and written once, so SQLite takes its EXCLUSIVE
 * OS file lock and keeps it until the connection closes. The kernel drops
 * it when the holder dies (kill -9 leaves no stale lock to clean up), it
 * behaves the same under better-sqlite3, bun:sqlite and node:sqlite, and a
 * second opener fails at once (busy timeout 0) before it touches the data
 * file. The lock file is never deleted: unlinking a held lock file would let
 * a third opener lock a new file while the first still runs.
 *
 * Bun's bundled SQLite takes no OS lock another process can see (observed
 * with Bun 1.4: nothing in /proc/locks, and the lock file's descriptor is not
 * even kept open), so the holder also records its pid, and a pid that is
 * alive and has the data file open still holds it ({@link holderAlive}).
 */
async function acquireLock(
  dataFile: string,
  driverOptions: { driver?: DriverName },
): Promise<SqlDatabase> {
  const path = lockPath(dataFile);
  const lock = await openDatabase(path, { ...driverOptions, pragmas: false });
  try {
    lock.exec("PRAGMA busy_timeout = 0");
    lock.exec("PRAGMA locking_mode = EXCLUSIVE");
    lock.transaction(() => {
      lock.exec("CREATE TABLE IF NOT EXISTS cairn_lock (id INTEGER PRIMARY KEY, pid INTEGER)");
      const holder = Number(
        lock.prepare("SELECT pid FROM cairn_lock WHERE id = 1").get()?.pid ?? 0,
      );
      if (holderAlive(holder, dataFile)) throw new DataDirLockedError(dataFile);
      lock.prepare("INSERT OR REPLACE INTO cairn_lock (id, pid) VALUES (1, ?)").run(pid);
    });
    return lock;
  } catch (error) {
    lock.close();
    if (
      error instanceof SqliteError &&
      (error.sqliteCode === "SQLITE_BUSY" || error.sqliteCode === "SQLITE_LOCKED")
    ) {
      throw new DataDirLockedError(dataFile, { cause: error });
    }
    throw error;
  }
}

function initialize(
  db: SqlDatabase,
  path: string,
  existed: boolean,
  options: OpenStorageOptions,
): RaftStorage {
  // Connection-level settings only: nothing here touches the file. The lock
  // file already keeps other members out; a reader (a backup) never blocks
  // us in WAL mode, but a last reader's checkpoint-on-close may, briefly.
  db.exec(`PRAGMA busy_timeout = ${options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS}`);

  // First read of the header. A non-SQLite file fails here (SQLITE_NOTADB).
  const appId = Number(db.prepare("PRAGMA application_id").get()?.application_id ?? 0);
  const userVersion = Number(db.prepare("PRAGMA user_version").get()?.user_version ?? 0);
  const tableCount = Number(db.prepare("SELECT count(*) AS n FROM sqlite_schema").get()?.n ?? 0);
  const fresh = appId === 0 && tableCount === 0;
  if (!fresh && appId !== APPLICATION_ID) {
    throw new NotCairnDataError(
      path,
      appId === 0
        ? "an SQLite database of another application"
        : `SQLite application id 0x${(appId >>> 0).toString(16)}`,
    );
  }
  if (!fresh && userVersion > SCHEMA_VERSION) {
    throw new SchemaTooNewError(path, "storage", userVersion, SCHEMA_VERSION);
  }

  if (!fresh && options.integrityCheck !== "none") {
    const pragma = options.integrityCheck === "full" ? "integrity_check" : "quick_check";
    const rows = db.prepare(`PRAGMA ${pragma}(20)`).all();
    const problems = rows.map((r) => String(Object.values(r)[0])).filter((m) => m !== "ok");
    if (problems.length > 0) {
      throw new CorruptionError(path, `${pragma} failed: ${problems.join("; ")}`);
    }
  }

  // Now the file is known to be ours (or empty): WAL and FULL sync.
  for (const pragma of standardPragmas(options.busyTimeoutMs)) db.prepare(pragma).all();
  const mode = String(db.prepare("PRAGMA journal_mode").get()?.journal_mode);
  const sync = Number(db.prepare("PRAGMA synchronous").get()?.synchronous);
  if (mode !== "wal" || sync !== 2) {
    throw new StorageError(
      "ERR_STORAGE_PRAGMA",
      `${path}: SQLite refused the required settings (journal_mode=${mode}, synchronous=${sync})`,
    );
  }
  db.transaction(() => {
    if (fresh) {
      db.exec(SCHEMA_V1);
      db.exec(`PRAGMA application_id = ${APPLICATION_ID}`);
      db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
      const put = db.prepare("INSERT INTO cairn_meta (key, value) VALUES (?, ?)");
      put.run(META.schemaVersion, SCHEMA_VERSION);
      put.run(META.appliedIndex, 0);
      put.run(META.baseIndex, 0);
      put.run(META.baseTerm, 0);
    }
    // Chunks of a snapshot that was still streaming in when the process died.
    db.exec("DELETE FROM raft_snapshots WHERE complete = 0");
  });
  if (fresh && !existed) syncDirectory(dirname(path));
  return new RaftStorage(db, path, options);
}

/**
 * Makes the new file's directory entry durable (SQLite syncs the directory
 * when it creates a WAL, not when it creates the main file).
 */
export function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, "r");
    fsyncSync(fd);
  } catch {
    // Not every platform can fsync a directory (Windows); SQLite's own
    // WAL-creation sync still covers the next commits.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * One member's durable state. Not safe for concurrent use from several
 * processes (the file is locked) and every method is synchronous except the
 * snapshot transfers, which stream.
 */
export class RaftStorage {
  readonly #db: SqlDatabase;
  readonly #path: string;
  readonly #margin: number;
  readonly #chunkSize: number;
  #closed = false;
  #closeHooks: (() => void)[] = [];
  /** Multi-row INSERT statements by row count (see #insertEntries). */
  readonly #inserts = new Map<number, SqlStatement>();
  /** The WAL file {@link flush} syncs, and the descriptor it holds on it. */
  readonly #walPath: string;
  #walFd: number | undefined;

  // Cached views of the file, updated only after a commit succeeds.
  #baseIndex: number;
  #baseTerm: number;
  #lastIndex: number;
  #lastTerm: number;
  #hardState: HardState;
  #applied: number;
  #snapshot: StoredSnapshot | undefined;

  readonly #q: {
    truncateFrom: SqlStatement;
    termAt: SqlStatement;
    range: SqlStatement;
    packedRange: SqlStatement;
    lastEntry: SqlStatement;
    setHardState: SqlStatement;
    getMeta: SqlStatement;
    setMeta: SqlStatement;
    insertChunk: SqlStatement;
    readChunk: SqlStatement;
    snapshotExists: SqlStatement;
  };

  /** @internal Use {@link openStorage}. */
  constructor(db: SqlDatabase, path: string, options: OpenStorageOptions) {
    this.#db = db;
    this.#path = path;
    this.#walPath = `${resolve(path)}-wal`;
    this.#margin = options.compactionMargin ?? 5_000;
    this.#chunkSize = options.snapshotChunkSize ?? 1024 * 1024;
    if (!isSafeIndex(this.#margin)) throw new RangeError("compactionMargin must be >= 0");
    if (!Number.isSafeInteger(this.#chunkSize) || this.#chunkSize < 1) {
      throw new RangeError("snapshotChunkSize must be a positive integer");
    }
    this.#q = {
      truncateFrom: db.prepare("DELETE FROM raft_entries WHERE idx >= ?"),
      termAt: db.prepare("SELECT term FROM raft_entries WHERE idx = ?"),
      range: db.prepare(
        "SELECT idx, term, type, data, crc FROM raft_entries WHERE idx >= ? AND idx < ? ORDER BY idx LIMIT ?",
      ),
      // One row per page: every entry's header fields as decimal text and
      // their data concatenated into one blob (CAST keeps a blob's bytes as
      // they are). A row per entry costs the driver an object, four bigints
      // and a Buffer each: most of the time of a restart's replay. Both
      // aggregates see the rows in the same order, and every entry is still
      // checked against its index and checksum, so nothing can be misread.
      packedRange: db.prepare(
        "SELECT group_concat(idx || ',' || term || ',' || type || ',' || crc || ',' || length(data), ',') AS head," +
          " CAST(group_concat(data, '') AS BLOB) AS data" +
          " FROM (SELECT idx, term, type, data, crc FROM raft_entries WHERE idx >= ? AND idx < ? ORDER BY idx LIMIT ?)",
      ),
      lastEntry: db.prepare("SELECT idx, term FROM raft_entries ORDER BY idx DESC LIMIT 1"),
      setHardState: db.prepare(
        "UPDATE raft_hard_state SET term = ?, vote = ?, commit_index = ? WHERE id = 1",
      ),
      getMeta: db.prepare("SELECT value FROM cairn_meta WHERE key = ?"),
      setMeta: db.prepare("UPDATE cairn_meta SET value = ? WHERE key = ?"),
      insertChunk: db.prepare(
        "INSERT INTO raft_snapshot_chunks (snapshot_id, seq, data, crc) VALUES (?, ?, ?, ?)",
      ),
      readChunk: db.prepare(
        "SELECT data, crc FROM raft_snapshot_chunks WHERE snapshot_id = ? AND seq = ?",
      ),
      snapshotExists: db.prepare(
        "SELECT 1 AS one FROM raft_snapshots WHERE id = ? AND complete = 1",
      ),
    };

    const version = this.#meta(META.schemaVersion);
    if (version > SCHEMA_VERSION) {
      throw new SchemaTooNewError(path, "storage", version, SCHEMA_VERSION);
    }
    this.#baseIndex = this.#meta(META.baseIndex);
    this.#baseTerm = this.#meta(META.baseTerm);
    this.#applied = this.#meta(META.appliedIndex);
    const last = this.#q.lastEntry.get();
    this.#lastIndex = last === undefined ? this.#baseIndex : this.#num(last.idx, "last index");
    this.#lastTerm = last === undefined ? this.#baseTerm : this.#num(last.term, "last term");
    if (this.#lastIndex < this.#baseIndex) {
      throw new CorruptionError(
        path,
        `last index ${this.#lastIndex} is behind the compacted index ${this.#baseIndex}`,
      );
    }
    const hs = db
      .prepare("SELECT term, vote, commit_index FROM raft_hard_state WHERE id = 1")
      .get();
    if (hs === undefined) throw new CorruptionError(path, "hard state row is missing");
    this.#hardState = {
      term: this.#num(hs.term, "hard state term"),
      vote: idFromSql(hs.vote),
      commit: this.#num(hs.commit_index, "hard state commit"),
    };
    this.#snapshot = this.#readCurrentSnapshot();
  }

  /** The data file's path. */
  get path(): string {
    return this.#path;
  }

  /** The driver serving the file. */
  get driver(): DriverName {
    return this.#db.driver;
  }

  /**
   * The connection, for the state-machine owner's reads and for its writes
   * inside {@link applyBatch}. Never write the `raft_*` / `cairn_*` tables.
   */
  get database(): SqlDatabase {
    this.#open();
    return this.#db;
  }

  // ---- reads: etcd raft's Storage shape ------------------------------------

  /** Hard state and the membership of the latest snapshot (etcd raft's `InitialState`). */
  initialState(): { hardState: HardState; confState: ConfState } {
    this.#open();
    return {
      hardState: { ...this.#hardState },
      confState: cloneConf(this.#snapshot?.metadata.confState ?? EMPTY_CONF),
    };
  }

  /**
   * Entries in `[lo, hi)`, stopping once their data exceeds `maxBytes` in
   * total, but always at least one entry when any is asked for (as etcd raft
   * does, so a huge entry can still be sent). Throws {@link LogCompactedError}
   * when `lo` is compacted away and {@link LogUnavailableError} when `hi` is
   * past the last index + 1.
   */
  entries(lo: number, hi: number, maxBytes: number = Number.POSITIVE_INFINITY): Entry[] {
    this.#open();
    if (!isSafeIndex(lo) || !isSafeIndex(hi) || lo > hi) {
      throw new InvalidLogOperationError(`invalid entry range [${lo}, ${hi})`);
    }
    if (lo <= this.#baseIndex) throw new LogCompactedError(lo, this.#baseIndex + 1);
    if (hi > this.#lastIndex + 1) throw new LogUnavailableError(hi - 1, this.#lastIndex);
    const out: Entry[] = [];
    if (lo === hi) return out;
    // A bounded read starts with a small page (a message's worth) and doubles
    // it while the budget lasts: a restart's replay reads the log in a few
    // large queries instead of one per 64 entries.
    let page = Number.isFinite(maxBytes) ? 64 : MAX_PAGE_ROWS;
    let bytes = 0;
    let next = lo;
    while (next < hi) {
      const rows = Math.min(page, hi - next);
      page = Math.min(page * 2, MAX_PAGE_ROWS);
      const got = this.#readPage(next, hi, rows);
      if (got.length === 0) {
        throw new CorruptionError(this.#path, `log entry ${next} is missing`);
      }
      for (const entry of got) {
        bytes += entry.data.byteLength;
        if (out.length > 0 && bytes > maxBytes) return out;
        out.push(entry);
        next++;
      }
    }
    return out;
  }

  /** The term of entry `index` (etcd raft's `Term`); the compacted index itself still answers. */
  term(index: number): number {
    this.#open();
    if (!isSafeIndex(index)) throw new InvalidLogOperationError(`invalid index ${index}`);
    if (index === this.#baseIndex) return this.#baseTerm;
    if (index < this.#baseIndex) throw new LogCompactedError(index, this.#baseIndex + 1);
    if (index > this.#lastIndex) throw new LogUnavailableError(index, this.#lastIndex);
    if (index === this.#lastIndex) return this.#lastTerm;
    const row = this.#q.termAt.get(index);
    if (row === undefined) throw new CorruptionError(this.#path, `log entry ${index} is missing`);
    return this.#num(row.term, `term of entry ${index}`);
  }

  /** The first index still in the log (the compacted index + 1). */
  firstIndex(): number {
    this.#open();
    return this.#baseIndex + 1;
  }

  /** The last index in the log (the compacted index when the log is empty). */
  lastIndex(): number {
    this.#open();
    return this.#lastIndex;
  }

  /** Metadata of the current snapshot; index 0 when there is none (etcd raft's empty snapshot). */
  snapshot(): SnapshotMetadata {
    this.#open();
    const meta = this.#snapshot?.metadata ?? { index: 0, term: 0, confState: EMPTY_CONF };
    return { index: meta.index, term: meta.term, confState: cloneConf(meta.confState) };
  }

  // ---- writes ---------------------------------------------------------------

  /**
   * Persists one Ready batch: the entries (after discarding any existing
   * suffix from the first new index, i.e. the conflicting entries, as Raft
   * §5.3 requires) and the hard state, in ONE transaction, so they cost one
   * fsync together (group commit). Durable when it returns. Entries already
   * compacted away are skipped, as etcd's storage does.
   */
  append(
    batch: { hardState?: HardState; entries?: readonly Entry[] },
    options: { sync?: boolean } = {},
  ): void {
    this.#open();
    let entries = batch.entries ?? [];
    const hs = batch.hardState;
    if (hs !== undefined) this.#checkHardState(hs);
    this.#checkBatch(entries);
    let first = entries[0]?.index ?? 0;
    if (entries.length > 0) {
      const lastNew = first + entries.length - 1;
      if (lastNew <= this.#baseIndex) {
        entries = [];
      } else if (first <= this.#baseIndex) {
        entries = entries.slice(this.#baseIndex + 1 - first);
        first = this.#baseIndex + 1;
      }
    }
    if (entries.length > 0) {
      if (first > this.#lastIndex + 1) {
        throw new InvalidLogOperationError(
          `append at index ${first} would leave a gap after the last index ${this.#lastIndex}`,
        );
      }
      // Terms never decrease along a raft log (Raft §5.3, Log Matching).
      const prevTerm = this.term(first - 1);
      if (entries[0]!.term < prevTerm) {
        throw new InvalidLogOperationError(
          `entry ${first} has term ${entries[0]!.term}, below the term ${prevTerm} of entry ${first - 1}`,
        );
      }
    }
    if (entries.length === 0 && hs === undefined) return; // nothing to make durable
    const q = this.#q;
    const write = () =>
      this.#db.transaction(() => {
        if (entries.length > 0) {
          if (first <= this.#lastIndex) q.truncateFrom.run(first);
          this.#insertEntries(entries);
        }
        if (hs !== undefined) q.setHardState.run(hs.term, idToSql(hs.vote), hs.commit);
      });
    // Unsynced, the commit reaches the OS (it survives a process crash); the
    // next synced commit or flush makes it durable against power loss too,
    // as etcd treats hard state writes that raft does not mark mustSync.
    this.#write(options.sync, write);
    if (entries.length > 0) {
      const last = entries[entries.length - 1]!;
      this.#lastIndex = last.index;
      this.#lastTerm = last.term;
    }
    if (hs !== undefined) this.#hardState = { ...hs };
  }

  /**
   * Makes every write made so far durable, without holding the caller's
   * thread: an fdatasync of the WAL file on a background thread. For writes
   * made with `sync: false`: such a write then `flush()` is as durable as a
   * synced write once the promise resolves (in WAL mode a commit's frames in
   * the WAL are all a synced commit adds; SQLite itself syncs the WAL before
   * each checkpoint and the database after it). Meanwhile the event loop
   * stays free, e.g. to serve reads; do not start another write batch that
   * must be durable before this one is.
   */
  async flush(): Promise<void> {
    this.#open();
    const fd = this.#walHandle();
    if (fd === undefined) {
      // No WAL file to sync (nothing written yet, or a platform that hides
      // it): a synced write of the hard state syncs whatever is pending.
      this.append({ hardState: this.#hardState });
      return;
    }
    await new Promise<void>((resolvePromise, reject) => {
      fdatasync(fd, (error) => (error ? reject(error) : resolvePromise()));
    });
  }

  /**
   * {@link flush} on the caller's thread, for a lone write that has nothing to
   * overlap with. An fdatasync rather than SQLite's own fsync: it skips the
   * file's timestamps, so it does not wait for the filesystem journal, which
   * other processes' writes keep busy (etcd syncs its WAL the same way).
   */
  flushSync(): void {
    this.#open();
    const fd = this.#walHandle();
    if (fd === undefined) this.append({ hardState: this.#hardState });
    else fdatasyncSync(fd);
  }

  /**
   * A descriptor on the WAL file, opened once. SQLite's own connection keeps
   * its WAL open until it closes, and deletes the file only as the last
   * connection to close; ours holds its shared lock on the database file
   * all along, so the file at this path stays the one SQLite writes. The
   * descriptor is deliberately not checked with an fstat per flush: on
   * Linux 6.13 and later a query of the file's ctime makes the next write
   * stamp a fine-grained mtime, which dirties the inode, and the fdatasync
   * after it then writes the inode's block as well as the data (three
   * device writes where two do, 67 against 89 µs per flush measured here).
   */
  #walHandle(): number | undefined {
    if (this.#walFd !== undefined) return this.#walFd;
    try {
      this.#walFd = openSync(this.#walPath, "r");
    } catch {
      return undefined;
    }
    return this.#walFd;
  }

  /**
   * Writes the hard state alone (a vote, a term bump, a commit advance).
   * Durable when it returns; with `sync: false`, written without an fsync
   * (safe against a process crash, made durable by the next synced write).
   */
  setHardState(hardState: HardState, options: { sync?: boolean } = {}): void {
    this.append({ hardState }, options);
  }

  /**
   * Runs `fn` (the caller's state-machine writes) and records `appliedIndex`
   * in the SAME transaction, so after a crash the state tables and the applied
   * index agree: nothing is skipped, nothing applied twice. `appliedIndex`
   * must grow strictly.
   */
  applyBatch<T>(appliedIndex: number, fn: (db: SqlDatabase) => T): T {
    this.#open();
    if (!isSafeIndex(appliedIndex) || appliedIndex <= this.#applied) {
      throw new InvalidLogOperationError(
        `applied index must grow: ${appliedIndex} after ${this.#applied}`,
      );
    }
    const result = this.#db.transaction(() => {
      const r = fn(this.#db);
      this.#q.setMeta.run(appliedIndex, META.appliedIndex);
      return r;
    });
    this.#applied = appliedIndex;
    return result;
  }

  /** The index of the last entry whose effects are stored (see {@link applyBatch}). */
  appliedIndex(): number {
    this.#open();
    return this.#applied;
  }

  /**
   * Brings the caller's own tables to `steps.length` (its schema version),
   * running the missing steps in one transaction. `owner` names the state
   * machine (e.g. `"v2store"`). A file whose recorded version is newer than
   * `steps.length` is refused with {@link SchemaTooNewError}. Returns the version.
   */
  migrate(owner: string, steps: readonly Migration[]): number {
    this.#open();
    const row = this.#db.prepare("SELECT version FROM cairn_migrations WHERE owner = ?").get(owner);
    const current = row === undefined ? 0 : this.#num(row.version, `${owner} schema version`);
    if (current > steps.length) {
      throw new SchemaTooNewError(this.#path, owner, current, steps.length);
    }
    if (current === steps.length) return current;
    this.#db.transaction(() => {
      for (let v = current; v < steps.length; v++) steps[v]!(this.#db);
      this.#db
        .prepare(
          "INSERT INTO cairn_migrations (owner, version) VALUES (?, ?) ON CONFLICT (owner) DO UPDATE SET version = excluded.version",
        )
        .run(owner, steps.length);
    });
    return steps.length;
  }

  /**
   * Discards the log up to `index - compactionMargin` (the margin keeps recent
   * entries for slow followers). `index` is normally the index of the snapshot
   * just saved and may not pass it, or the log would lose entries that no
   * snapshot covers. Returns the new first index. With `sync: false` the
   * deletion is committed without an fsync (see {@link append}): losing it
   * to a power cut only leaves entries the snapshot also holds.
   */
  compact(index: number, options: { sync?: boolean } = {}): number {
    this.#open();
    if (!isSafeIndex(index))
      throw new InvalidLogOperationError(`invalid compaction index ${index}`);
    const snapIndex = this.#snapshot?.metadata.index ?? 0;
    if (index > snapIndex) {
      throw new InvalidLogOperationError(
        `cannot compact to ${index}: past the latest snapshot (${snapIndex})`,
      );
    }
    const upTo = Math.min(index - this.#margin, this.#lastIndex);
    if (upTo <= this.#baseIndex) return this.#baseIndex + 1;
    const upToTerm = this.term(upTo);
    this.#write(options.sync, () =>
      this.#db.transaction(() => {
        this.#db.prepare("DELETE FROM raft_entries WHERE idx <= ?").run(upTo);
        this.#q.setMeta.run(upTo, META.baseIndex);
        this.#q.setMeta.run(upToTerm, META.baseTerm);
      }),
    );
    this.#baseIndex = upTo;
    this.#baseTerm = upToTerm;
    return upTo + 1;
  }

  /**
   * Stores a snapshot of this member's own state at `metadata.index` (which
   * must be in the log, with its term, and newer than the stored snapshot).
   * The data streams in chunk by chunk; the snapshot becomes current (and the
   * previous one is dropped) in one final transaction, so a crash at any
   * point leaves either the old snapshot or the new one, never a mix.
   * Does not compact: call {@link compact} after. With `sync: false` its
   * writes are committed without an fsync (see {@link append}): the
   * snapshot is durable once a later {@link flush} resolves, and the log
   * behind it must not be compacted before.
   */
  async saveSnapshot(
    metadata: SnapshotMetadata,
    data: ChunkSource,
    options: { sync?: boolean } = {},
  ): Promise<void> {
    this.#open();
    const check = () => {
      this.#checkNewer(metadata);
      if (metadata.index > this.#lastIndex) {
        throw new InvalidLogOperationError(
          `snapshot index ${metadata.index} is past the last log index ${this.#lastIndex}`,
        );
      }
      if (metadata.index >= this.#baseIndex && this.term(metadata.index) !== metadata.term) {
        throw new InvalidLogOperationError(
          `snapshot term ${metadata.term} differs from the log's term ${this.term(metadata.index)} at index ${metadata.index}`,
        );
      }
    };
    check();
    const staged = await this.#stage(metadata, data, options.sync);
    this.#write(options.sync, () =>
      this.#commitStaged(staged, () => {
        check();
        this.#promote(staged);
      }),
    );
    this.#snapshot = { ...staged, metadata: cloneMeta(metadata) };
  }

  /**
   * Installs a snapshot received from the leader (Raft §7, InstallSnapshot):
   * the data streams in first; then ONE transaction makes it current, drops
   * the whole log (the snapshot's index/term becomes the compacted point, as
   * etcd's storage does), raises the commit index to at least the snapshot's,
   * sets the applied index to it, writes `options.hardState`, and runs
   * `options.restore` to rebuild the caller's state tables. A crash leaves
   * either everything as before or everything installed.
   */
  async installSnapshot(
    metadata: SnapshotMetadata,
    data: ChunkSource,
    options: InstallSnapshotOptions = {},
  ): Promise<void> {
    this.#open();
    if (options.hardState !== undefined) this.#checkHardState(options.hardState);
    this.#checkNewer(metadata);
    const staged = await this.#stage(metadata, data);
    let hardState = options.hardState ?? this.#hardState;
    if (hardState.commit < metadata.index) hardState = { ...hardState, commit: metadata.index };
    this.#commitStaged(staged, () => {
      this.#checkNewer(metadata);
      this.#promote(staged);
      this.#db.exec("DELETE FROM raft_entries");
      this.#q.setMeta.run(metadata.index, META.baseIndex);
      this.#q.setMeta.run(metadata.term, META.baseTerm);
      this.#q.setMeta.run(metadata.index, META.appliedIndex);
      this.#q.setHardState.run(hardState.term, idToSql(hardState.vote), hardState.commit);
      options.restore?.(
        this.#db,
        this.#chunksSync(staged.id, staged.chunks, staged.size, staged.crc, metadata.index),
      );
    });
    this.#snapshot = { ...staged, metadata: cloneMeta(metadata) };
    this.#baseIndex = this.#lastIndex = metadata.index;
    this.#baseTerm = this.#lastTerm = metadata.term;
    this.#applied = metadata.index;
    this.#hardState = { ...hardState };
  }

  /** The current snapshot with a reader for its data, or `undefined` when there is none. */
  loadSnapshot(): SnapshotReader | undefined {
    this.#open();
    const snap = this.#snapshot;
    if (snap === undefined) return undefined;
    const { id, chunks, size, crc } = snap;
    const metadata = cloneMeta(snap.metadata);
    const sync = () => this.#chunksSync(id, chunks, size, crc, metadata.index);
    return {
      metadata,
      size,
      chunksSync: sync,
      async *chunks() {
        for (const chunk of sync()) {
          yield chunk;
          // Let other work run between chunks of a large snapshot.
          await Promise.resolve();
        }
      },
      stream() {
        const it = sync();
        return new ReadableStream<Uint8Array>({
          pull(controller) {
            try {
              const next = it.next();
              if (next.done) controller.close();
              else controller.enqueue(next.value);
            } catch (error) {
              controller.error(error);
            }
          },
          cancel() {
            it.return(undefined);
          },
        });
      },
    };
  }

  /** Closes the file and releases the lock. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#walFd !== undefined) {
      closeSync(this.#walFd);
      this.#walFd = undefined;
    }
    try {
      this.#db.close();
    } finally {
      for (const hook of this.#closeHooks) hook();
    }
  }

  /** @internal */
  onClose(hook: () => void): void {
    this.#closeHooks.push(hook);
  }

  // ---- internals -----------------------------------------------------------

  #open(): void {
    if (this.#closed) throw new StorageClosedError(this.#path);
  }

  #num(value: SqlValue | undefined, what: string): number {
    return toNumber(value, what, this.#path);
  }

  #meta(key: string): number {
    const row = this.#q.getMeta.get(key);
    if (row === undefined) throw new CorruptionError(this.#path, `meta row '${key}' is missing`);
    return this.#num(row.value, key);
  }

  /**
   * Up to `rows` entries from `next` (below `hi`), checked: consecutive from
   * `next`, each matching its checksum. Read packed (one result row for the
   * page); a page too large for one SQLite value (SQLITE_TOOBIG, about 1 GB)
   * is read row by row instead.
   */
  #readPage(next: number, hi: number, rows: number): Entry[] {
    let packed: SqlRow | undefined;
    try {
      packed = this.#q.packedRange.get(next, hi, rows);
    } catch (error) {
      if (!(error instanceof SqliteError) || error.sqliteCode !== "SQLITE_TOOBIG") throw error;
      return this.#q.range.all(next, hi, rows).map((row, i) => this.#entryFromRow(row, next + i));
    }
    const head = packed?.head;
    if (head === null || head === undefined) return [];
    if (typeof head !== "string")
      throw new CorruptionError(this.#path, "log page header is not text");
    const data =
      packed!.data === null ? EMPTY_BYTES : toBytes(packed!.data, "log page data", this.#path);
    const out: Entry[] = [];
    let offset = 0;
    let at = 0;
    // The header is read in place: splitting it made five strings per entry.
    const field = (what: string): number => {
      // `what` is a constant: a message is only built for a bad field.
      const start = at;
      let n = 0;
      for (; at < head.length; at++) {
        const c = head.charCodeAt(at);
        if (c === 44) break; // ','
        n = c >= 48 && c <= 57 ? n * 10 + (c - 48) : Number.NaN;
      }
      if (at === start || !Number.isSafeInteger(n)) {
        const text = head.slice(start, at);
        const entry = next + out.length;
        throw new CorruptionError(
          this.#path,
          `${what} of log entry ${entry} is not a safe integer: ${text}`,
        );
      }
      at++;
      return n;
    };
    while (at < head.length) {
      const expected = next + out.length;
      const index = field("index");
      if (index !== expected) {
        throw new CorruptionError(this.#path, `log entry ${expected} is missing (found ${index})`);
      }
      const term = field("term");
      const type = field("type");
      const crc = field("checksum");
      const end = offset + field("data length");
      if (end > data.byteLength) {
        throw new CorruptionError(this.#path, `data of log entry ${index} is cut short`);
      }
      const bytes = data.subarray(offset, end);
      offset = end;
      if (entryChecksum(index, term, type, bytes) !== crc) {
        throw new CorruptionError(this.#path, `checksum mismatch in log entry ${index}`);
      }
      out.push({ index, term, type, data: bytes });
    }
    if (offset !== data.byteLength) {
      throw new CorruptionError(this.#path, `log page from entry ${next} does not add up`);
    }
    return out;
  }

  #entryFromRow(row: Record<string, SqlValue>, expected: number): Entry {
    const index = this.#num(row.idx, "entry index");
    if (index !== expected) {
      throw new CorruptionError(this.#path, `log entry ${expected} is missing (found ${index})`);
    }
    const term = this.#num(row.term, `term of entry ${index}`);
    const type = this.#num(row.type, `type of entry ${index}`);
    const data = toBytes(row.data, `data of entry ${index}`, this.#path);
    if (entryChecksum(index, term, type, data) !== this.#num(row.crc, "checksum")) {
      throw new CorruptionError(this.#path, `checksum mismatch in log entry ${index}`);
    }
    return { index, term, type, data };
  }

  /**
   * Inserts entries with multi-row INSERTs of up to {@link INSERT_ROWS} rows:
   * one call into SQLite per 64 entries instead of one per entry, which is
   * most of the CPU cost of a large batch.
   */
  #insertEntries(entries: readonly Entry[]): void {
    let at = 0;
    while (at < entries.length) {
      const n = Math.min(INSERT_ROWS, entries.length - at);
      let stmt = this.#inserts.get(n);
      if (stmt === undefined) {
        const rows = new Array<string>(n).fill("(?, ?, ?, ?, ?)").join(", ");
        stmt = this.#db.prepare(
          `INSERT INTO raft_entries (idx, term, type, data, crc) VALUES ${rows}`,
        );
        this.#inserts.set(n, stmt);
      }
      const params: SqlValue[] = new Array<SqlValue>(n * 5);
      for (let i = 0; i < n; i++) {
        const e = entries[at + i]!;
        params[i * 5] = e.index;
        params[i * 5 + 1] = e.term;
        params[i * 5 + 2] = e.type;
        params[i * 5 + 3] = e.data;
        params[i * 5 + 4] = entryChecksum(e.index, e.term, e.type, e.data);
      }
      stmt.run(...params);
      at += n;
    }
  }

  #checkHardState(hs: HardState): void {
    if (!isSafeIndex(hs.term) || !isSafeIndex(hs.commit)) {
      throw new InvalidLogOperationError(
        `invalid hard state term ${hs.term} / commit ${hs.commit}`,
      );
    }
    checkId(hs.vote, "vote");
  }

  #checkBatch(entries: readonly Entry[]): void {
    let prev: Entry | undefined;
    for (const e of entries) {
      if (
        !isSafeIndex(e.index) ||
        e.index < 1 ||
        !isSafeIndex(e.term) ||
        !Number.isInteger(e.type) ||
        e.type < -0x80000000 ||
        e.type > 0x7fffffff ||
        !(e.data instanceof Uint8Array)
      ) {
        throw new InvalidLogOperationError(`invalid entry at index ${String(e.index)}`);
      }
      if (prev !== undefined && (e.index !== prev.index + 1 || e.term < prev.term)) {
        throw new InvalidLogOperationError(
          `entries must be contiguous with non-decreasing terms (index ${e.index} term ${e.term} after index ${prev.index} term ${prev.term})`,
        );
      }
      prev = e;
    }
  }

  #checkNewer(metadata: SnapshotMetadata): void {
    if (!isSafeIndex(metadata.index) || metadata.index < 1 || !isSafeIndex(metadata.term)) {
      throw new InvalidLogOperationError(
        `invalid snapshot index ${metadata.index} / term ${metadata.term}`,
      );
    }
    const current = this.#snapshot?.metadata.index ?? 0;
    if (metadata.index <= current) throw new SnapshotOutOfDateError(metadata.index, current);
  }

  /**
   * Streams `data` into chunk rows of a not-yet-complete snapshot. Each chunk
   * is its own small transaction: none is held across an `await` (that would
   * swallow unrelated writes made meanwhile), and a crash leaves only an
   * incomplete row that the next open removes.
   */
  async #stage(
    metadata: SnapshotMetadata,
    data: ChunkSource,
    sync?: boolean,
  ): Promise<{ id: number; size: number; chunks: number; crc: number }> {
    const conf = confToJson(metadata.confState);
    const row = this.#write(sync, () =>
      this.#db
        .prepare(
          "INSERT INTO raft_snapshots (idx, term, conf_state, complete) VALUES (?, ?, ?, 0) RETURNING id",
        )
        .get(metadata.index, metadata.term, conf),
    );
    const id = this.#num(row?.id, "snapshot id");
    let size = 0;
    let seq = 0;
    let crc = 0;
    // One buffer of chunkSize re-chunks whatever sizes the source yields.
    const buffer = new Uint8Array(this.#chunkSize);
    let filled = 0;
    const write = (bytes: Uint8Array) => {
      this.#open();
      this.#write(sync, () => this.#q.insertChunk.run(id, seq++, bytes, crc32(bytes)));
      crc = crc32(bytes, crc);
      size += bytes.byteLength;
    };
    try {
      for await (const piece of iterateSource(data)) {
        if (!(piece instanceof Uint8Array)) {
          throw new TypeError("snapshot data chunks must be Uint8Array");
        }
        let offset = 0;
        while (offset < piece.byteLength) {
          if (filled === 0 && piece.byteLength - offset >= buffer.byteLength) {
            write(piece.subarray(offset, offset + buffer.byteLength));
            offset += buffer.byteLength;
            continue;
          }
          const n = Math.min(buffer.byteLength - filled, piece.byteLength - offset);
          buffer.set(piece.subarray(offset, offset + n), filled);
          filled += n;
          offset += n;
          if (filled === buffer.byteLength) {
            write(buffer);
            filled = 0;
          }
        }
      }
      if (filled > 0) write(buffer.subarray(0, filled));
    } catch (error) {
      if (!this.#closed) this.#db.prepare("DELETE FROM raft_snapshots WHERE id = ?").run(id);
      throw error;
    }
    return { id, size, chunks: seq, crc };
  }

  /**
   * Runs `write` (one or more commits); with `sync === false` under
   * `synchronous=NORMAL`, so in WAL mode its commits reach the OS without an
   * fsync, and the setting is restored after.
   */
  #write<T>(sync: boolean | undefined, write: () => T): T {
    if (sync !== false) return write();
    this.#db.exec("PRAGMA synchronous = NORMAL");
    try {
      return write();
    } finally {
      this.#db.exec("PRAGMA synchronous = FULL");
    }
  }

  /**
   * Runs the transaction that turns a staged snapshot into the current one;
   * if it fails (a check, the caller's restore, the disk), the staged chunks
   * are dropped at once rather than left for the next open.
   */
  #commitStaged(staged: { id: number }, fn: () => void): void {
    try {
      this.#db.transaction(fn);
    } catch (error) {
      if (!this.#closed) {
        this.#db.prepare("DELETE FROM raft_snapshots WHERE id = ? AND complete = 0").run(staged.id);
      }
      throw error;
    }
  }

  /** Makes a staged snapshot the only complete one (inside a transaction). */
  #promote(staged: { id: number; size: number; chunks: number; crc: number }): void {
    this.#db.prepare("DELETE FROM raft_snapshots WHERE complete = 1").run();
    const changed = this.#db
      .prepare(
        "UPDATE raft_snapshots SET complete = 1, size = ?, chunk_count = ?, crc = ? WHERE id = ? AND complete = 0",
      )
      .run(staged.size, staged.chunks, staged.crc, staged.id);
    if (changed.changes !== 1) {
      throw new StorageError(
        "ERR_STORAGE_SNAPSHOT_LOST",
        `${this.#path}: staged snapshot ${staged.id} vanished`,
      );
    }
  }

  *#chunksSync(
    id: number,
    count: number,
    size: number,
    crc: number,
    index: number,
  ): Generator<Uint8Array> {
    let total = 0;
    let running = 0;
    for (let seq = 0; seq < count; seq++) {
      this.#open();
      const row = this.#q.readChunk.get(id, seq);
      if (row === undefined) {
        if (this.#q.snapshotExists.get(id) === undefined) throw new SnapshotSupersededError(index);
        throw new CorruptionError(this.#path, `snapshot ${index}: chunk ${seq} is missing`);
      }
      const data = toBytes(row.data, `snapshot chunk ${seq}`, this.#path);
      if (crc32(data) !== this.#num(row.crc, "chunk checksum")) {
        throw new CorruptionError(
          this.#path,
          `snapshot ${index}: checksum mismatch in chunk ${seq}`,
        );
      }
      total += data.byteLength;
      running = crc32(data, running);
      yield data;
    }
    if (total !== size || running !== crc) {
      throw new CorruptionError(
        this.#path,
        `snapshot ${index}: data does not match its recorded size/checksum`,
      );
    }
  }

  #readCurrentSnapshot(): StoredSnapshot | undefined {
    const row = this.#db
      .prepare(
        "SELECT id, idx, term, conf_state, size, chunk_count, crc FROM raft_snapshots WHERE complete = 1 ORDER BY idx DESC LIMIT 1",
      )
      .get();
    if (row === undefined) return undefined;
    return {
      id: this.#num(row.id, "snapshot id"),
      metadata: {
        index: this.#num(row.idx, "snapshot index"),
        term: this.#num(row.term, "snapshot term"),
        confState: confFromJson(row.conf_state, this.#path),
      },
      size: this.#num(row.size, "snapshot size"),
      chunks: this.#num(row.chunk_count, "snapshot chunk count"),
      crc: this.#num(row.crc, "snapshot checksum"),
    };
  }
}

function cloneConf(conf: ConfState): ConfState {
  const out: ConfState = { voters: [...conf.voters], learners: [...conf.learners] };
  if (conf.votersOutgoing !== undefined) out.votersOutgoing = [...conf.votersOutgoing];
  if (conf.learnersNext !== undefined) out.learnersNext = [...conf.learnersNext];
  if (conf.autoLeave !== undefined) out.autoLeave = conf.autoLeave;
  return out;
}

function cloneMeta(meta: SnapshotMetadata): SnapshotMetadata {
  return { index: meta.index, term: meta.term, confState: cloneConf(meta.confState) };
}
