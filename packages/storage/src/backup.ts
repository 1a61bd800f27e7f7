/**
 * A consistent copy of a data file, taken while a member may be writing it.
 *
 * The data file runs in WAL mode with ordinary locking (the member's
 * exclusivity lives in a separate lock file, see `openStorage`), so a second
 * connection can hold one read transaction: everything it reads is the state
 * as of one commit, whatever the member commits meanwhile, and the member
 * never waits for it. The copy is written through `ATTACH` inside that same
 * transaction, table by table in rowid ranges, so SQLite moves the rows (no
 * row passes through JavaScript) and the caller sees progress between ranges.
 * The SQLite online-backup API is not used: it restarts whenever another
 * connection writes the source, so it may never finish against a busy member.
 */

import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { DriverName, SqlDatabase } from "./driver.js";
import {
  BackupTargetExistsError,
  DataFileMissingError,
  NotCairnDataError,
  SqliteError,
} from "./errors.js";
import { DEFAULT_BUSY_TIMEOUT_MS, openDatabase } from "./open.js";
import { APPLICATION_ID } from "./schema.js";
import { syncDirectory } from "./storage.js";

/** How far a backup has come, in rows of the source's tables. */
export interface BackupProgress {
  readonly copiedRows: number;
  readonly totalRows: number;
}

/** Options of {@link backupDatabase}. */
export interface BackupOptions {
  /** Overrides the runtime's default driver. */
  driver?: DriverName;
  /** Called after each copied range (and once at 0 and once at the end). */
  onProgress?: (progress: BackupProgress) => void;
  /** Rows per copied range (default 512). */
  rowsPerStep?: number;
  /**
   * Runs on the finished copy, in one transaction, before the copy is moved
   * to `target` (e.g. to give the copy new identities).
   */
  finish?: (copy: SqlDatabase) => void;
}

/** What {@link backupDatabase} copied. */
export interface BackupResult {
  readonly rows: number;
  readonly tables: number;
}

interface SchemaRow {
  type: string;
  name: string;
  sql: string | null;
}

/** `"name"` with embedded quotes doubled. */
function quote(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A CREATE statement from `sqlite_schema`, made to create its object in schema `bak`. */
function inBackup(sql: string): string {
  const head =
    /^\s*CREATE\s+(?:UNIQUE\s+)?(?:TABLE|INDEX|VIEW|TRIGGER)\s+(?:IF\s+NOT\s+EXISTS\s+)?/i;
  const m = head.exec(sql);
  if (m === null) throw new SqliteError("SQLITE_ERROR", `backup: unexpected schema entry: ${sql}`);
  return `${m[0]}bak.${sql.slice(m[0].length)}`;
}

const yieldToLoop = () => new Promise<void>((r) => setTimeout(r, 0));

/**
 * Copies the Cairn data file `source` to the new file `target` as one
 * consistent state, while another process may be writing `source`.
 * `target` must not exist; the copy is written next to it as
 * `<target>.partial`, synced, and renamed into place only when complete, so
 * an interrupted backup never leaves a file that looks whole. The source is
 * only read (its lock file is not touched).
 */
export async function backupDatabase(
  source: string,
  target: string,
  options: BackupOptions = {},
): Promise<BackupResult> {
  const from = resolve(source);
  const to = resolve(target);
  if (!existsSync(from)) throw new DataFileMissingError(from);
  if (existsSync(to)) throw new BackupTargetExistsError(to);
  const partial = `${to}.partial`;
  rmSync(partial, { force: true });
  rmSync(`${partial}-journal`, { force: true });
  const driver = options.driver === undefined ? {} : { driver: options.driver };
  const step = Math.max(1, Math.floor(options.rowsPerStep ?? 512));
  const report = options.onProgress ?? (() => {});

  let result: BackupResult;
  const src = await openDatabase(from, { ...driver, pragmas: false });
  try {
    src.exec(`PRAGMA busy_timeout = ${DEFAULT_BUSY_TIMEOUT_MS}`);
    // Ours? (Before ATTACH, which already fails on a file that is not SQLite.)
    let appId: number;
    try {
      appId = Number(src.prepare("PRAGMA main.application_id").get()?.application_id ?? 0);
    } catch (error) {
      if (error instanceof SqliteError && error.sqliteCode === "SQLITE_NOTADB") {
        throw new NotCairnDataError(from, "not an SQLite database, or its header is damaged", {
          cause: error,
        });
      }
      throw error;
    }
    if (appId !== APPLICATION_ID) {
      throw new NotCairnDataError(
        from,
        appId === 0
          ? "not a Cairn database"
          : `SQLite application id 0x${(appId >>> 0).toString(16)}`,
      );
    }
    src.prepare("ATTACH DATABASE ? AS bak").run(partial);
    // The copy is a plain rollback-journal file: one self-contained file that
    // the member turns into WAL when it opens it.
    src.exec("PRAGMA bak.synchronous = FULL");
    src.exec("BEGIN");
    try {
      // The first read fixes the snapshot every later read of `main` sees.
      const userVersion = Number(src.prepare("PRAGMA main.user_version").get()?.user_version ?? 0);
      const schema = src
        .prepare("SELECT type, name, sql FROM main.sqlite_schema ORDER BY rowid")
        .all() as unknown as SchemaRow[];
      const tables = schema.filter((r) => r.type === "table" && !r.name.startsWith("sqlite_"));
      const counts = tables.map((t) =>
        Number(src.prepare(`SELECT count(*) AS n FROM main.${quote(t.name)}`).get()?.n ?? 0),
      );
      const totalRows = counts.reduce((a, b) => a + b, 0);
      let copiedRows = 0;
      report({ copiedRows, totalRows });
      for (const [i, t] of tables.entries()) {
        src.exec(inBackup(t.sql ?? ""));
        const name = quote(t.name);
        if (/\bWITHOUT\s+ROWID\b/i.test(t.sql ?? "")) {
          src.exec(`INSERT INTO bak.${name} SELECT * FROM main.${name}`);
          copiedRows += counts[i] ?? 0;
          report({ copiedRows, totalRows });
          continue;
        }
        const upTo = src.prepare(
          `SELECT max(rowid) AS hi, count(*) AS n FROM (SELECT rowid FROM main.${name} WHERE rowid > ? ORDER BY rowid LIMIT ?)`,
        );
        const copy = src.prepare(
          `INSERT INTO bak.${name} SELECT * FROM main.${name} WHERE rowid > ? AND rowid <= ? ORDER BY rowid`,
        );
        // Rowids of our tables start at 1; below any rowid SQLite hands out.
        let after: bigint = -(1n << 63n);
        for (;;) {
          const range = upTo.get(after, step);
          const n = Number(range?.n ?? 0);
          if (n === 0 || range?.hi === null || range?.hi === undefined) break;
          const hi = BigInt(range.hi as bigint | number);
          copy.run(after, hi);
          after = hi;
          copiedRows += n;
          report({ copiedRows, totalRows });
          await yieldToLoop();
        }
      }
      if (schema.some((r) => r.name === "sqlite_sequence")) {
        src.exec("DELETE FROM bak.sqlite_sequence");
        src.exec("INSERT INTO bak.sqlite_sequence SELECT * FROM main.sqlite_sequence");
      }
      // Indexes, views and triggers after the rows: building an index once is
      // cheaper than keeping it up to date row by row.
      for (const r of schema) {
        if (r.type !== "table" && r.sql !== null && !r.name.startsWith("sqlite_")) {
          src.exec(inBackup(r.sql));
        }
      }
      src.exec(`PRAGMA bak.application_id = ${APPLICATION_ID}`);
      src.exec(`PRAGMA bak.user_version = ${userVersion}`);
      src.exec("COMMIT");
      result = { rows: copiedRows, tables: tables.length };
    } catch (error) {
      try {
        src.exec("ROLLBACK");
      } catch {
        // SQLite may have rolled back already
      }
      throw error;
    }
    src.exec("DETACH DATABASE bak");
  } catch (error) {
    src.close();
    rmSync(partial, { force: true });
    rmSync(`${partial}-journal`, { force: true });
    throw error;
  }
  src.close();

  try {
    if (options.finish !== undefined) {
      const copy = await openDatabase(partial, { ...driver, pragmas: false });
      try {
        copy.exec("PRAGMA synchronous = FULL");
        const finish = options.finish;
        copy.transaction(() => finish(copy));
      } finally {
        copy.close();
      }
    }
    const fd = openSync(partial, "r+");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(partial, to);
    syncDirectory(dirname(to));
  } catch (error) {
    rmSync(partial, { force: true });
    throw error;
  }
  return result;
}
