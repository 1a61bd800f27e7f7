/**
 * The read-ahead worker (Node, better-sqlite3): reads packed pages of the
 * raft log on its own read-only connection, checks every entry, and posts
 * each page (header text and data, the data's memory transferred) to the
 * member's thread, at most `window` pages ahead of what it has taken.
 * Committed entries never change, so reading them beside the member's own
 * connection (WAL mode: readers do not block the writer) is safe.
 */
import { parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";
import { PACKED_RANGE_SQL, unpackLogPage } from "./logpage.js";
import type { ReadAheadMessage, ReadAheadRequest } from "./readahead.js";

const port = parentPort!;
const { path, from, to, pageRows, window } = workerData as ReadAheadRequest;
let credits = window;
let stopped = false;
let wake: (() => void) | undefined;
port.on("message", (m: "more" | "stop") => {
  if (m === "more") credits++;
  else stopped = true;
  wake?.();
});

function post(message: ReadAheadMessage, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

let db: Database.Database | undefined;
try {
  db = new Database(path, { readonly: true, fileMustExist: true });
  const page = db.prepare(PACKED_RANGE_SQL);
  let next = from;
  while (next <= to && !stopped) {
    if (credits === 0) {
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = undefined;
      continue;
    }
    const row = page.get(next, to + 1, pageRows) as { head: unknown; data: unknown } | undefined;
    if (typeof row?.head !== "string" || !(row.data instanceof Uint8Array)) break;
    const count = unpackLogPage(path, next, row.head, row.data, true).length;
    // A copy into memory of its own, so it can be handed over without a copy.
    const data = new Uint8Array(row.data);
    post({ kind: "page", first: next, head: row.head, data }, [data.buffer]);
    next += count;
    credits--;
  }
} catch {
  // Anything wrong (a damaged entry, a missing row) ends the read-ahead: the
  // member reads that part itself and reports it with the storage's error.
} finally {
  db?.close();
  post({ kind: "end" });
}
