/**
 * The node:sqlite driver (Deno, and Node >= 22.13). Import it directly as
 * `@cairn/storage/node-sqlite`, or let `openDatabase` pick it under Deno.
 */

import { DatabaseSync } from "node:sqlite";
import {
  type RawConnection,
  type SqlDatabase,
  type SqlRow,
  toSqliteError,
  wrapConnection,
} from "../driver.js";

/** Opens `path` with node:sqlite behind Cairn's {@link SqlDatabase} interface. */
export function open(path: string): SqlDatabase {
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path);
  } catch (error) {
    throw toSqliteError(error, `open ${path}`);
  }
  const raw: RawConnection = {
    exec: (sql) => db.exec(sql),
    prepare(sql) {
      const stmt = db.prepare(sql);
      // Every INTEGER as bigint (see driver.ts).
      stmt.setReadBigInts(true);
      return {
        all: (...params) => stmt.all(...params) as SqlRow[],
        get: (...params) => stmt.get(...params) as SqlRow | undefined,
        // With read-bigints on, node:sqlite reports `changes` as a bigint too.
        run: (...params) => ({ changes: Number(stmt.run(...params).changes) }),
      };
    },
    close: () => db.close(),
  };
  return wrapConnection(raw, "node:sqlite", path);
}
