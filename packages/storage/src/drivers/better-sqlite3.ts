/**
 * The better-sqlite3 driver (Node). Import it directly as
 * `@cairn/storage/better-sqlite3`, or let `openDatabase` pick it on Node.
 */

import Database from "better-sqlite3";
import {
  type RawConnection,
  type SqlDatabase,
  type SqlRow,
  type SqlStatement,
  toSqliteError,
  wrapConnection,
} from "../driver.js";

/** Opens `path` with better-sqlite3 behind Cairn's {@link SqlDatabase} interface. */
export function open(path: string): SqlDatabase {
  let db: Database.Database;
  try {
    db = new Database(path);
  } catch (error) {
    throw toSqliteError(error, `open ${path}`);
  }
  // Every INTEGER as bigint (see driver.ts).
  db.defaultSafeIntegers(true);
  const raw: RawConnection = {
    exec: (sql) => {
      db.exec(sql);
    },
    prepare(sql): SqlStatement {
      const stmt = db.prepare(sql);
      // better-sqlite3 refuses all()/get() on statements that return nothing;
      // the interface lets callers use them uniformly.
      const reader = stmt.reader;
      return {
        all: (...params) => {
          if (!reader) {
            stmt.run(...params);
            return [];
          }
          return stmt.all(...params) as SqlRow[];
        },
        get: (...params) => {
          if (!reader) {
            stmt.run(...params);
            return undefined;
          }
          return stmt.get(...params) as SqlRow | undefined;
        },
        run: (...params) => ({ changes: stmt.run(...params).changes }),
      };
    },
    close: () => db.close(),
  };
  return wrapConnection(raw, "better-sqlite3", path);
}
