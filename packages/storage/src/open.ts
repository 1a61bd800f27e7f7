/**
 * Picks the SQLite driver for the running runtime (detected once, here) and
 * applies the PRAGMAs every Cairn connection uses.
 */

import type { DriverName, SqlDatabase } from "./driver.js";
import { DriverUnavailableError } from "./errors.js";

/** The runtime this code is running on. */
export type RuntimeName = "node" | "bun" | "deno";

/** Detects the runtime from its globals (Bun and Deno both also define `process`). */
function detectRuntime(): RuntimeName {
  const g = globalThis as { Bun?: unknown; Deno?: unknown };
  if (g.Bun !== undefined) return "bun";
  if (g.Deno !== undefined) return "deno";
  return "node";
}

/** The runtime detected when this module loaded. */
export const runtime: RuntimeName = detectRuntime();

/**
 * The driver used when none is asked for: bun:sqlite on Bun, node:sqlite on
 * Deno, better-sqlite3 on Node (Node 20 has no node:sqlite; on newer Node,
 * better-sqlite3 stays the default because it is what the crash tests prove).
 */
export function defaultDriver(on: RuntimeName = runtime): DriverName {
  switch (on) {
    case "bun":
      return "bun:sqlite";
    case "deno":
      return "node:sqlite";
    case "node":
      return "better-sqlite3";
  }
}

/** The busy timeout every connection gets unless told otherwise. */
export const DEFAULT_BUSY_TIMEOUT_MS = 5_000;

/**
 * The PRAGMAs of every Cairn connection, in the order they must run:
 * - `journal_mode=WAL`: appends are sequential writes to the WAL, one fsync
 *   per commit;
 * - `synchronous=FULL` AFTER the journal mode: some builds (better-sqlite3's
 *   among them, SQLITE_DEFAULT_WAL_SYNCHRONOUS=1) silently drop to NORMAL on
 *   entering WAL mode, and NORMAL may lose the last commits on power loss;
 * - `foreign_keys=ON`: snapshot chunks cascade with their snapshot;
 * - `busy_timeout`: waits for a lock instead of failing at once.
 */
export function standardPragmas(busyTimeoutMs: number = DEFAULT_BUSY_TIMEOUT_MS): string[] {
  return [
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = FULL",
    "PRAGMA foreign_keys = ON",
    `PRAGMA busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`,
  ];
}

/** Applies {@link standardPragmas} to an open connection. */
export function applyStandardPragmas(db: SqlDatabase, busyTimeoutMs?: number): void {
  for (const pragma of standardPragmas(busyTimeoutMs)) {
    // journal_mode answers with a row; `all` works for both kinds.
    db.prepare(pragma).all();
  }
}

/** Options of {@link openDatabase}. */
export interface OpenDatabaseOptions {
  /** Overrides the runtime's default driver. */
  driver?: DriverName;
  /** Apply {@link standardPragmas} (default true). `false` opens without touching the file. */
  pragmas?: boolean;
  /** Busy timeout for the standard PRAGMAs (default {@link DEFAULT_BUSY_TIMEOUT_MS}). */
  busyTimeoutMs?: number;
}

type DriverModule = { open(path: string): SqlDatabase };

/**
 * Loads a driver module. Each lives in its own file, imported only when
 * chosen, so a runtime never loads another runtime's driver.
 */
async function loadDriver(driver: DriverName): Promise<DriverModule> {
  try {
    switch (driver) {
      case "better-sqlite3":
        return await import("./drivers/better-sqlite3.js");
      case "bun:sqlite":
        return await import("./drivers/bun-sqlite.js");
      case "node:sqlite":
        return await import("./drivers/node-sqlite.js");
    }
  } catch (error) {
    throw new DriverUnavailableError(
      `SQLite driver '${driver}' cannot be loaded under ${runtime}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  throw new DriverUnavailableError(`unknown SQLite driver '${String(driver)}'`);
}

/**
 * Opens (creating if missing) the SQLite file at `path` with the runtime's
 * driver (or `options.driver`) and the standard PRAGMAs.
 */
export async function openDatabase(
  path: string,
  options: OpenDatabaseOptions = {},
): Promise<SqlDatabase> {
  const driver = options.driver ?? defaultDriver();
  const mod = await loadDriver(driver);
  const db = mod.open(path);
  if (options.pragmas !== false) {
    try {
      applyStandardPragmas(db, options.busyTimeoutMs);
    } catch (error) {
      db.close();
      throw error;
    }
  }
  return db;
}
