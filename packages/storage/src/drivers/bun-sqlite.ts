/**
 * The bun:sqlite driver (Bun). Import it directly as `@cairn/storage/bun-sqlite`,
 * or let `openDatabase` pick it under Bun. Loading it anywhere but Bun fails.
 */

import { type BunStatement, Database } from "bun:sqlite";
import {
  type RawConnection,
  type SqlDatabase,
  type SqlRow,
  toSqliteError,
  wrapConnection,
} from "../driver.js";

/** Opens `path` with bun:sqlite behind Cairn's {@link SqlDatabase} interface. */
export function open(path: string): SqlDatabase {
  let db: Database;
  try {
    // safeIntegers: every INTEGER as bigint (see driver.ts).
    db = new Database(path, { create: true, readwrite: true, safeIntegers: true, strict: true });
  } catch (error) {
    throw toSqliteError(error, `open ${path}`);
  }
  // bun:sqlite keeps the file open (and so the lock held) until every
  // statement is finalized, even after close(): statements are cached per SQL
  // text and finalized on close.
  const statements = new Map<string, BunStatement>();
  const raw: RawConnection = {
    exec: (sql) => db.exec(sql),
    prepare(sql) {
      let stmt = statements.get(sql);
      if (stmt === undefined) {
        stmt = db.prepare(sql);
        statements.set(sql, stmt);
      }
      const s = stmt;
      return {
        all: (...params) => s.all(...params) as SqlRow[],
        // bun:sqlite answers `null` for "no row"; the interface says undefined.
        get: (...params) => (s.get(...params) ?? undefined) as SqlRow | undefined,
        run: (...params) => ({ changes: Number(s.run(...params).changes) }),
      };
    },
    close: () => {
      for (const stmt of statements.values()) stmt.finalize();
      statements.clear();
      db.close(true);
    },
  };
  return wrapConnection(raw, "bun:sqlite", path);
}
