// The victim of the crash tests (crash.test.ts): a Node process with
// better-sqlite3 that writes to a Cairn data file in a loop and announces
// every write before it starts ("begin …") and after the call has returned
// ("ack …"). The test SIGKILLs it at random moments and checks that every
// acknowledged write survived and no half-done write is visible.
//
// Plain JavaScript because Node 20 cannot run TypeScript; it loads the BUILT
// package, as the member does.
//
// usage: node child.mjs <append|snapshot> <data file> <cycle>

import { writeSync } from "node:fs";
import { openStorage } from "../../dist/index.js";

const [mode, path, cycleArg] = process.argv.slice(2);
const cycle = Number(cycleArg);

/** Lines go straight to fd 1: once written, the parent can see them even if we die next. */
function say(line) {
  writeSync(1, `${line}\n`);
}

/** Entry data names the cycle, batch and index, then a filler of varying length. */
function entryData(c, k, i) {
  const len = (k * 131 + i * 17) % 1500;
  return new TextEncoder().encode(`c${c}k${k}i${i}:${"x".repeat(len)}`);
}

/** Deterministic snapshot bytes (the test recomputes them). */
function* snapshotChunks(size, seed) {
  const piece = 64 * 1024;
  for (let off = 0; off < size; off += piece) {
    const n = Math.min(piece, size - off);
    const out = new Uint8Array(n);
    for (let j = 0; j < n; j++) out[j] = ((off + j) * 31 + seed * 7) & 0xff;
    yield out;
  }
}

// Small chunks: a transfer is many small transactions, each a place to die.
const storage = await openStorage(path, {
  driver: "better-sqlite3",
  compactionMargin: 10,
  snapshotChunkSize: 64 * 1024,
});
if (mode === "append") {
  storage.migrate("crash-apply", [
    (db) =>
      db.exec("CREATE TABLE crash_applied (id INTEGER PRIMARY KEY, k INTEGER NOT NULL) STRICT"),
  ]);
}
if (mode === "snapshot") {
  storage.migrate("crash", [
    (db) => db.exec("CREATE TABLE crash_state (k INTEGER PRIMARY KEY, v TEXT) STRICT"),
  ]);
}
say(`ready ${storage.lastIndex()}`);

for (let k = 1; ; k++) {
  const last = storage.lastIndex();
  const lastTerm = storage.term(last);
  if (mode === "append") {
    // Every 7th batch rewrites the last two entries under a new term (a new
    // leader's conflicting suffix, Raft §5.3); the rest append.
    const rewrite = k % 7 === 3 && last - 2 >= storage.firstIndex();
    const lo = rewrite ? last - 1 : last + 1;
    const term = rewrite ? lastTerm + 1 : Math.max(lastTerm, 1);
    const n = 1 + ((k * 37) % 48);
    const entries = [];
    for (let i = lo; i < lo + n; i++)
      entries.push({ index: i, term, type: k % 3, data: entryData(cycle, k, i) });
    const hardState = { term, vote: (1n << 63n) + BigInt(k), commit: lo - 1 };
    say(`begin ${k} ${lo} ${lo + n - 1} ${term}`);
    storage.append({ hardState, entries });
    say(`ack ${k}`);
    // Apply something: one state row per applied index, in the same
    // transaction as the index (the test checks they never disagree).
    const applied = storage.appliedIndex() + 1;
    storage.applyBatch(applied, (db) =>
      db.prepare("INSERT INTO crash_applied (id, k) VALUES (?, ?)").run(applied, k),
    );
  } else {
    // Alternate: append a few entries, save a snapshot at the end of the log
    // and compact; or install a leader's snapshot far ahead.
    const install = k % 2 === 0;
    const size = 100_000 + ((k * 7919 + cycle * 104_729) % 900_000);
    const seed = cycle * 1000 + k;
    if (install) {
      const index = last + 100;
      const term = lastTerm + 1;
      say(`begin ${k} install ${index} ${term} ${size} ${seed}`);
      await storage.installSnapshot(
        { index, term, confState: { voters: [(1n << 63n) + BigInt(k)], learners: [] } },
        snapshotChunks(size, seed),
        {
          hardState: { term, vote: 0n, commit: index },
          restore(db) {
            db.prepare("DELETE FROM crash_state").run();
            db.prepare("INSERT INTO crash_state (k, v) VALUES (?, ?)").run(k, `installed ${seed}`);
          },
        },
      );
      say(`ack ${k}`);
    } else {
      const term = Math.max(lastTerm, 1);
      const entries = [];
      for (let i = last + 1; i <= last + 5; i++)
        entries.push({ index: i, term, type: 0, data: entryData(cycle, k, i) });
      storage.append({ entries });
      say(`begin ${k} save ${last + 5} ${term} ${size} ${seed}`);
      await storage.saveSnapshot(
        { index: last + 5, term, confState: { voters: [BigInt(k)], learners: [] } },
        snapshotChunks(size, seed),
      );
      say(`ack ${k}`);
      storage.compact(last + 5);
    }
  }
}
