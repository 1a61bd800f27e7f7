/**
 * The storage conformance suite: one list of cases that every driver must
 * pass under its own runtime. It uses only `node:assert`, `node:fs`,
 * `node:os` and `node:path` (available on Node, Bun and Deno) and receives the
 * package's module from its caller: vitest passes `src` under Node, the
 * runner (runner.ts) passes the built `dist` under Bun and Deno.
 */

import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type * as StorageModule from "../../src/index.js";

/** The package's public module, as `import * as m from "@cairn/storage"` gives it. */
export type Storage = typeof StorageModule;

/** What each case gets. */
export interface CaseContext {
  readonly mod: Storage;
  readonly driver: StorageModule.DriverName;
  /** A fresh empty directory, removed after the case. */
  readonly dir: string;
}

/** One conformance case. */
export interface ConformanceCase {
  readonly name: string;
  run(ctx: CaseContext): Promise<void> | void;
}

const enc = new TextEncoder();
const bytes = (s: string) => enc.encode(s);

function entry(index: number, term: number, data = `e${index}t${term}`, type = 0) {
  return { index, term, type, data: bytes(data) };
}

function range(lo: number, hi: number, term: number) {
  const out = [];
  for (let i = lo; i <= hi; i++) out.push(entry(i, term));
  return out;
}

async function open(ctx: CaseContext, name = "cairn.db", options = {}) {
  return ctx.mod.openStorage(join(ctx.dir, name), { driver: ctx.driver, ...options });
}

async function rejects(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.equal((e as { code?: string }).code, code, String(e));
    return true;
  });
}

function throws(fn: () => unknown, code: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.equal((e as { code?: string }).code, code, String(e));
    return true;
  });
}

/** Bytes of a plain Uint8Array (a Buffer compares unequal to one in deepStrictEqual). */
function plain(u: unknown): number[] {
  assert.ok(u instanceof Uint8Array, `expected a Uint8Array, got ${String(u)}`);
  return [...u];
}

async function collect(it: AsyncIterable<Uint8Array>): Promise<number[]> {
  const out: number[] = [];
  for await (const c of it) out.push(...c);
  return out;
}

function pattern(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed * 7) & 0xff;
  return out;
}

const BIG_ID = (1n << 63n) + 0x1234n; // above 2^63: negative as a signed SQLite INTEGER
const MAX_ID = (1n << 64n) - 1n;

export const cases: readonly ConformanceCase[] = [
  {
    name: "driver: the standard PRAGMAs take effect (WAL, synchronous=FULL, foreign keys, busy timeout)",
    async run(ctx) {
      const db = await ctx.mod.openDatabase(join(ctx.dir, "p.db"), { driver: ctx.driver });
      try {
        assert.equal(db.driver, ctx.driver);
        assert.equal(db.prepare("PRAGMA journal_mode").get()?.journal_mode, "wal");
        assert.equal(db.prepare("PRAGMA synchronous").get()?.synchronous, 2n);
        assert.equal(db.prepare("PRAGMA foreign_keys").get()?.foreign_keys, 1n);
        assert.equal(db.prepare("PRAGMA busy_timeout").get()?.timeout, 5000n);
      } finally {
        db.close();
      }
    },
  },
  {
    name: "driver: positional params, plain rows, every INTEGER as bigint, blobs, text, real, null",
    async run(ctx) {
      const db = await ctx.mod.openDatabase(join(ctx.dir, "v.db"), { driver: ctx.driver });
      try {
        db.exec("CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB, n INTEGER)");
        const ins = db.prepare("INSERT INTO t (i, r, s, b, n) VALUES (?, ?, ?, ?, ?)");
        const values = [0n, 1n, -1n, 2n ** 53n + 1n, 2n ** 63n - 1n, -(2n ** 63n)];
        for (const v of values) assert.equal(ins.run(v, 1.5, "é€", bytes("ab"), null).changes, 1);
        ins.run(42, 0.25, "", new Uint8Array(0), null);
        const rows = db.prepare("SELECT i, r, s, b, n FROM t ORDER BY rowid").all();
        assert.deepEqual(
          rows.map((r) => r.i),
          [...values, 42n],
        );
        const first = rows[0]!;
        assert.deepEqual(Object.keys(first), ["i", "r", "s", "b", "n"]);
        assert.equal(first.r, 1.5);
        assert.equal(first.s, "é€");
        assert.deepEqual(plain(first.b), [97, 98]);
        assert.equal(first.n, null);
        assert.deepEqual(plain(rows[6]!.b), []);
        assert.equal(
          db.prepare("SELECT i FROM t WHERE i = ?").get(2n ** 63n - 1n)?.i,
          2n ** 63n - 1n,
        );
        assert.equal(db.prepare("SELECT i FROM t WHERE i = ?").get(7), undefined);
        assert.equal(db.prepare("DELETE FROM t WHERE i < ?").run(0).changes, 2);
        // all()/get() on a statement that returns nothing behave uniformly.
        assert.deepEqual(db.prepare("UPDATE t SET n = 1 WHERE i = ?").all(0), []);
      } finally {
        db.close();
      }
    },
  },
  {
    name: "driver: transactions commit, roll back on throw, nest with savepoints, refuse async callbacks",
    async run(ctx) {
      const db = await ctx.mod.openDatabase(join(ctx.dir, "t.db"), { driver: ctx.driver });
      try {
        db.exec("CREATE TABLE t (v INTEGER)");
        const ins = db.prepare("INSERT INTO t (v) VALUES (?)");
        const count = () => db.prepare("SELECT count(*) AS n FROM t").get()?.n;
        assert.equal(
          db.transaction(() => {
            ins.run(1);
            assert.equal(db.inTransaction, true);
            return "done";
          }),
          "done",
        );
        assert.equal(db.inTransaction, false);
        assert.throws(() =>
          db.transaction(() => {
            ins.run(2);
            throw new Error("boom");
          }),
        );
        assert.equal(count(), 1n);
        db.transaction(() => {
          ins.run(3);
          assert.throws(() =>
            db.transaction(() => {
              ins.run(4);
              throw new Error("inner");
            }),
          );
          ins.run(5);
        });
        assert.deepEqual(
          db
            .prepare("SELECT v FROM t ORDER BY v")
            .all()
            .map((r) => r.v),
          [1n, 3n, 5n],
        );
        assert.throws(() => db.transaction(() => Promise.resolve(ins.run(6))), TypeError);
        assert.equal(count(), 3n);
      } finally {
        db.close();
      }
    },
  },
  {
    name: "driver: BEGIN IMMEDIATE takes the write lock up front; SQLite errors carry a normalised code",
    async run(ctx) {
      const path = join(ctx.dir, "l.db");
      const a = await ctx.mod.openDatabase(path, { driver: ctx.driver });
      const b = await ctx.mod.openDatabase(path, { driver: ctx.driver, busyTimeoutMs: 0 });
      try {
        a.exec("CREATE TABLE t (v INTEGER PRIMARY KEY)");
        a.transaction(() => {
          // No write yet, but the lock is already ours: b cannot start writing.
          assert.throws(
            () => b.exec("BEGIN IMMEDIATE"),
            (e: unknown) => (e as { sqliteCode?: string }).sqliteCode === "SQLITE_BUSY",
          );
        });
        a.prepare("INSERT INTO t (v) VALUES (?)").run(1);
        assert.throws(
          () => a.prepare("INSERT INTO t (v) VALUES (?)").run(1),
          (e: unknown) =>
            e instanceof ctx.mod.SqliteError &&
            e.sqliteCode === "SQLITE_CONSTRAINT" &&
            e.code === "ERR_SQLITE",
        );
      } finally {
        b.close();
        a.close();
        a.close(); // idempotent
      }
      throws(() => a.prepare("SELECT 1"), "ERR_STORAGE_CLOSED");
    },
  },
  {
    name: "log: a new file is empty (first 1, last 0, term(0) = 0, no snapshot, zero hard state)",
    async run(ctx) {
      const s = await open(ctx);
      try {
        assert.equal(s.driver, ctx.driver);
        assert.equal(s.firstIndex(), 1);
        assert.equal(s.lastIndex(), 0);
        assert.equal(s.term(0), 0);
        assert.equal(s.appliedIndex(), 0);
        assert.deepEqual(s.entries(1, 1), []);
        assert.deepEqual(s.snapshot(), {
          index: 0,
          term: 0,
          confState: { voters: [], learners: [] },
        });
        assert.equal(s.loadSnapshot(), undefined);
        assert.deepEqual(s.initialState(), {
          hardState: { term: 0, vote: 0n, commit: 0 },
          confState: { voters: [], learners: [] },
        });
        throws(() => s.entries(1, 2), "ERR_STORAGE_UNAVAILABLE");
        throws(() => s.term(1), "ERR_STORAGE_UNAVAILABLE");
      } finally {
        s.close();
      }
    },
  },
  {
    name: "log: entries and hard state persist across reopen; a vote id >= 2^63 round-trips",
    async run(ctx) {
      let s = await open(ctx);
      s.append({
        hardState: { term: 3, vote: BIG_ID, commit: 2 },
        entries: [entry(1, 1), entry(2, 2, "x", 1), entry(3, 3, "", 7)],
      });
      s.close();
      s = await open(ctx);
      try {
        assert.deepEqual(s.initialState().hardState, { term: 3, vote: BIG_ID, commit: 2 });
        assert.equal(s.lastIndex(), 3);
        const got = s.entries(1, 4);
        assert.deepEqual(
          got.map((e) => [e.index, e.term, e.type, plain(e.data)]),
          [
            [1, 1, 0, [...bytes("e1t1")]],
            [2, 2, 1, [...bytes("x")]],
            [3, 3, 7, []],
          ],
        );
        assert.deepEqual([s.term(1), s.term(2), s.term(3)], [1, 2, 3]);
        s.setHardState({ term: 4, vote: MAX_ID, commit: 3 });
        s.close();
        s = await open(ctx);
        assert.deepEqual(s.initialState().hardState, { term: 4, vote: MAX_ID, commit: 3 });
      } finally {
        s.close();
      }
    },
  },
  {
    name: "log: a hard state written without sync is kept, and synchronous=FULL is back after it",
    async run(ctx) {
      let s = await open(ctx);
      try {
        s.append({ hardState: { term: 2, vote: 0n, commit: 0 }, entries: range(1, 3, 2) });
        s.setHardState({ term: 2, vote: 0n, commit: 3 }, { sync: false });
        const mode = s.database.prepare("PRAGMA synchronous").get();
        assert.equal(Number(mode?.synchronous), 2);
        s.close();
        s = await open(ctx);
        assert.deepEqual(s.initialState().hardState, { term: 2, vote: 0n, commit: 3 });
      } finally {
        s.close();
      }
    },
  },
  {
    name: "log: entries(lo, hi, maxBytes) stops at the byte limit but always returns one entry",
    async run(ctx) {
      const s = await open(ctx);
      try {
        const ents = [];
        for (let i = 1; i <= 200; i++)
          ents.push({ index: i, term: 1, type: 0, data: new Uint8Array(10) });
        s.append({ entries: ents });
        assert.equal(s.entries(1, 201).length, 200);
        assert.equal(s.entries(1, 201, 25).length, 2);
        assert.equal(s.entries(1, 201, 30).length, 3);
        assert.equal(s.entries(5, 201, 0).length, 1);
        assert.equal(s.entries(1, 201, 1005).length, 100);
        // across several read pages (they grow while the budget lasts)
        assert.deepEqual(
          s.entries(2, 201, 1_985).map((e) => e.index),
          Array.from({ length: 198 }, (_, i) => i + 2),
        );
        assert.deepEqual(
          s.entries(50, 60, 1_000_000).map((e) => e.index),
          [50, 51, 52, 53, 54, 55, 56, 57, 58, 59],
        );
        throws(() => s.entries(10, 5), "ERR_STORAGE_INVALID_OPERATION");
        throws(() => s.entries(1, 202), "ERR_STORAGE_UNAVAILABLE");
      } finally {
        s.close();
      }
    },
  },
  {
    name: "log: an append truncates the conflicting suffix first; gaps and falling terms are refused",
    async run(ctx) {
      const s = await open(ctx);
      try {
        s.append({ entries: range(1, 5, 1) });
        // A new leader's entries from index 3 replace 3..5 (Raft §5.3).
        s.append({ entries: [entry(3, 2, "new3"), entry(4, 2, "new4")] });
        assert.equal(s.lastIndex(), 4);
        assert.deepEqual(
          s.entries(1, 5).map((e) => [e.index, e.term]),
          [
            [1, 1],
            [2, 1],
            [3, 2],
            [4, 2],
          ],
        );
        assert.deepEqual(plain(s.entries(3, 4)[0]!.data), [...bytes("new3")]);
        throws(() => s.append({ entries: [entry(6, 2)] }), "ERR_STORAGE_INVALID_OPERATION");
        throws(() => s.append({ entries: [entry(5, 1)] }), "ERR_STORAGE_INVALID_OPERATION");
        throws(
          () => s.append({ entries: [entry(5, 2), entry(7, 2)] }),
          "ERR_STORAGE_INVALID_OPERATION",
        );
        throws(
          () =>
            s.append({
              hardState: { term: 9, vote: 1n, commit: 0 },
              entries: [entry(5, 3), entry(6, 2)],
            }),
          "ERR_STORAGE_INVALID_OPERATION",
        );
        // Nothing of a refused call was written, hard state included.
        assert.equal(s.lastIndex(), 4);
        assert.deepEqual(s.initialState().hardState, { term: 0, vote: 0n, commit: 0 });
      } finally {
        s.close();
      }
    },
  },
  {
    name: "snapshot: chunks stream in and out (iterable, async iterable, ReadableStream) with ids >= 2^63",
    async run(ctx) {
      const s = await open(ctx, "cairn.db", { snapshotChunkSize: 1000 });
      try {
        s.append({ entries: range(1, 10, 1) });
        const data = pattern(4321);
        const conf = {
          voters: [1n, BIG_ID, MAX_ID],
          learners: [2n],
          votersOutgoing: [1n],
          autoLeave: true,
        };
        // Odd-sized pieces: the storage re-chunks them to 1000-byte rows.
        async function* pieces() {
          for (let i = 0; i < data.length; i += 333) yield data.subarray(i, i + 333);
        }
        await s.saveSnapshot({ index: 5, term: 1, confState: conf }, pieces());
        let snap = s.loadSnapshot()!;
        assert.deepEqual(snap.metadata, { index: 5, term: 1, confState: conf });
        assert.equal(snap.size, 4321);
        const sizes: number[] = [];
        for await (const c of snap.chunks()) sizes.push(c.byteLength);
        assert.deepEqual(sizes, [1000, 1000, 1000, 1000, 321]);
        assert.deepEqual(await collect(snap.chunks()), [...data]);
        assert.deepEqual(await collect(snap.stream() as unknown as AsyncIterable<Uint8Array>), [
          ...data,
        ]);
        assert.deepEqual(s.snapshot(), { index: 5, term: 1, confState: conf });
        assert.deepEqual(s.initialState().confState, conf);

        const stream = new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(pattern(2500, 2));
            controller.close();
          },
        });
        await s.saveSnapshot(
          { index: 8, term: 1, confState: { voters: [3n], learners: [] } },
          stream,
        );
        snap = s.loadSnapshot()!;
        assert.equal(snap.metadata.index, 8);
        assert.deepEqual(await collect(snap.chunks()), [...pattern(2500, 2)]);
        await s.saveSnapshot({ index: 9, term: 1, confState: { voters: [3n], learners: [] } }, []);
        assert.equal(s.loadSnapshot()!.size, 0);
        assert.deepEqual(await collect(s.loadSnapshot()!.chunks()), []);
      } finally {
        s.close();
      }
      const again = await open(ctx);
      try {
        assert.equal(again.snapshot().index, 9);
      } finally {
        again.close();
      }
    },
  },
  {
    name: "snapshot: stale, out-of-log and wrong-term snapshots are refused; a failing source leaves the old one",
    async run(ctx) {
      const s = await open(ctx);
      try {
        s.append({ entries: [...range(1, 5, 1), ...range(6, 8, 2)] });
        await s.saveSnapshot({ index: 6, term: 2, confState: { voters: [1n], learners: [] } }, [
          pattern(10),
        ]);
        await rejects(
          s.saveSnapshot({ index: 6, term: 2, confState: { voters: [], learners: [] } }, []),
          "ERR_STORAGE_SNAPSHOT_OUT_OF_DATE",
        );
        await rejects(
          s.saveSnapshot({ index: 9, term: 2, confState: { voters: [], learners: [] } }, []),
          "ERR_STORAGE_INVALID_OPERATION",
        );
        await rejects(
          s.saveSnapshot({ index: 7, term: 1, confState: { voters: [], learners: [] } }, []),
          "ERR_STORAGE_INVALID_OPERATION",
        );
        async function* failing() {
          yield pattern(100);
          throw new Error("network gone");
        }
        await assert.rejects(
          s.saveSnapshot({ index: 7, term: 2, confState: { voters: [], learners: [] } }, failing()),
          /network gone/,
        );
        assert.equal(s.snapshot().index, 6);
        assert.deepEqual(await collect(s.loadSnapshot()!.chunks()), [...pattern(10)]);
        const leftovers = s.database.prepare("SELECT count(*) AS n FROM raft_snapshots").get();
        assert.equal(leftovers?.n, 1n);
      } finally {
        s.close();
      }
    },
  },
  {
    name: "compact: drops entries behind index - margin, keeps term(base), refuses to pass the snapshot",
    async run(ctx) {
      const s = await open(ctx, "cairn.db", { compactionMargin: 3 });
      try {
        s.append({ entries: [...range(1, 10, 1), ...range(11, 20, 2)] });
        throws(() => s.compact(5), "ERR_STORAGE_INVALID_OPERATION");
        await s.saveSnapshot({ index: 15, term: 2, confState: { voters: [1n], learners: [] } }, []);
        assert.equal(s.compact(15), 13);
        assert.equal(s.firstIndex(), 13);
        assert.equal(s.lastIndex(), 20);
        assert.equal(s.term(12), 2);
        throws(() => s.term(11), "ERR_STORAGE_COMPACTED");
        throws(() => s.entries(12, 14), "ERR_STORAGE_COMPACTED");
        assert.deepEqual(
          s.entries(13, 21).map((e) => e.index),
          [13, 14, 15, 16, 17, 18, 19, 20],
        );
        assert.equal(s.compact(15), 13); // idempotent
        // Appending entries that are partly compacted keeps only the new part.
        s.append({ entries: range(10, 21, 2) });
        assert.equal(s.lastIndex(), 21);
        assert.equal(s.firstIndex(), 13);
      } finally {
        s.close();
      }
      const again = await open(ctx);
      try {
        assert.equal(again.firstIndex(), 13);
        assert.equal(again.term(12), 2);
        assert.equal(again.lastIndex(), 21);
      } finally {
        again.close();
      }
    },
  },
  {
    name: "applied state: state tables and applied index change in one transaction, or not at all",
    async run(ctx) {
      let s = await open(ctx);
      try {
        assert.equal(
          s.migrate("kv", [(db) => db.exec("CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT) STRICT")]),
          1,
        );
        s.append({ entries: range(1, 3, 1), hardState: { term: 1, vote: 0n, commit: 3 } });
        s.applyBatch(2, (db) => {
          db.prepare("INSERT INTO kv (k, v) VALUES (?, ?)").run("a", "1");
          db.prepare("INSERT INTO kv (k, v) VALUES (?, ?)").run("b", "2");
        });
        assert.throws(
          () =>
            s.applyBatch(3, (db) => {
              db.prepare("INSERT INTO kv (k, v) VALUES (?, ?)").run("c", "3");
              throw new Error("apply failed");
            }),
          /apply failed/,
        );
        assert.equal(s.appliedIndex(), 2);
        throws(() => s.applyBatch(2, () => undefined), "ERR_STORAGE_INVALID_OPERATION");
        s.close();
        s = await open(ctx);
        assert.equal(s.appliedIndex(), 2);
        assert.deepEqual(
          s.database
            .prepare("SELECT k FROM kv ORDER BY k")
            .all()
            .map((r) => r.k),
          ["a", "b"],
        );
        // migrate is idempotent and refuses a newer recorded version.
        assert.equal(
          s.migrate("kv", [(db) => db.exec("CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT) STRICT")]),
          1,
        );
        throws(() => s.migrate("kv", []), "ERR_STORAGE_SCHEMA_TOO_NEW");
      } finally {
        s.close();
      }
    },
  },
  {
    name: "install snapshot: replaces log, state and applied index atomically (and not at all on failure)",
    async run(ctx) {
      const s = await open(ctx, "cairn.db", { snapshotChunkSize: 64 });
      try {
        s.migrate("kv", [(db) => db.exec("CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT) STRICT")]);
        s.append({ entries: range(1, 4, 1), hardState: { term: 1, vote: 1n, commit: 4 } });
        s.applyBatch(4, (db) => db.prepare("INSERT INTO kv (k, v) VALUES (?, ?)").run("old", "x"));
        const image = bytes(JSON.stringify({ fresh: "y".repeat(300) }));
        const restore = (db: StorageModule.SqlDatabase, data: Iterable<Uint8Array>) => {
          const parts: number[] = [];
          for (const c of data) parts.push(...c);
          const state = JSON.parse(new TextDecoder().decode(new Uint8Array(parts))) as Record<
            string,
            string
          >;
          db.exec("DELETE FROM kv");
          for (const [k, v] of Object.entries(state))
            db.prepare("INSERT INTO kv (k, v) VALUES (?, ?)").run(k, v);
        };
        await assert.rejects(
          s.installSnapshot(
            { index: 50, term: 5, confState: { voters: [BIG_ID], learners: [] } },
            [image],
            {
              restore() {
                throw new Error("restore failed");
              },
            },
          ),
          /restore failed/,
        );
        assert.equal(s.lastIndex(), 4);
        assert.equal(s.appliedIndex(), 4);
        assert.equal(s.snapshot().index, 0);
        // ... and the staged chunks of the failed install are gone already.
        assert.equal(s.database.prepare("SELECT count(*) AS n FROM raft_snapshots").get()?.n, 0n);
        assert.equal(
          s.database.prepare("SELECT count(*) AS n FROM raft_snapshot_chunks").get()?.n,
          0n,
        );
        await s.installSnapshot(
          { index: 50, term: 5, confState: { voters: [BIG_ID], learners: [] } },
          [image],
          {
            hardState: { term: 6, vote: BIG_ID, commit: 10 },
            restore,
          },
        );
        const check = (t: typeof s, last: number) => {
          assert.equal(t.firstIndex(), 51);
          assert.equal(t.lastIndex(), last);
          assert.equal(t.term(50), 5);
          assert.equal(t.appliedIndex(), 50);
          // The commit index is raised to the snapshot's: it is committed by definition.
          assert.deepEqual(t.initialState(), {
            hardState: { term: 6, vote: BIG_ID, commit: 50 },
            confState: { voters: [BIG_ID], learners: [] },
          });
          assert.deepEqual(
            t.database
              .prepare("SELECT k, v FROM kv")
              .all()
              .map((r) => [r.k, r.v]),
            [["fresh", "y".repeat(300)]],
          );
        };
        check(s, 50);
        throws(() => s.entries(50, 51), "ERR_STORAGE_COMPACTED");
        await rejects(
          s.installSnapshot({ index: 50, term: 5, confState: { voters: [], learners: [] } }, []),
          "ERR_STORAGE_SNAPSHOT_OUT_OF_DATE",
        );
        s.append({ entries: [entry(51, 6)] });
        s.close();
        const again = await open(ctx);
        try {
          check(again, 51);
          assert.equal(again.term(51), 6);
        } finally {
          again.close();
        }
      } finally {
        s.close();
      }
    },
  },
  {
    name: "safety: a second open of a held file is refused (DataDirLockedError); close releases it",
    async run(ctx) {
      const s = await open(ctx);
      try {
        s.append({ entries: range(1, 3, 1) });
        await rejects(open(ctx), "ERR_STORAGE_LOCKED");
        // The lock is SQLite's own, on the companion lock file: a raw
        // connection cannot read that one...
        const lock = await ctx.mod.openDatabase(ctx.mod.lockPath(join(ctx.dir, "cairn.db")), {
          driver: ctx.driver,
          pragmas: false,
        });
        try {
          lock.exec("PRAGMA busy_timeout = 0");
          assert.throws(
            () => lock.prepare("SELECT count(*) FROM sqlite_schema").get(),
            (e: unknown) => (e as { sqliteCode?: string }).sqliteCode === "SQLITE_BUSY",
          );
        } finally {
          lock.close();
        }
        // ...while the data file itself stays readable (what a backup needs).
        const raw = await ctx.mod.openDatabase(join(ctx.dir, "cairn.db"), {
          driver: ctx.driver,
          pragmas: false,
        });
        try {
          assert.equal(raw.prepare("SELECT count(*) AS n FROM raft_entries").get()?.n, 3n);
        } finally {
          raw.close();
        }
      } finally {
        s.close();
      }
      const again = await open(ctx);
      assert.equal(again.lastIndex(), 3);
      again.close();
    },
  },
  {
    name: "backup: a consistent copy of a live file while it is written; refuses a missing source, an existing target, a foreign file",
    async run(ctx) {
      const s = await open(ctx, "cairn.db", { snapshotChunkSize: 100 });
      const source = join(ctx.dir, "cairn.db");
      const target = join(ctx.dir, "copy.db");
      try {
        s.migrate("conf", [
          (db) => db.exec("CREATE TABLE conf_kv (k TEXT PRIMARY KEY, v TEXT) STRICT"),
        ]);
        s.append({ entries: range(1, 40, 1), hardState: { term: 1, vote: BIG_ID, commit: 30 } });
        await s.saveSnapshot(
          { index: 20, term: 1, confState: { voters: [BIG_ID], learners: [] } },
          [pattern(350)],
        );
        s.applyBatch(20, (db) => db.prepare("INSERT INTO conf_kv VALUES ('a', '1')").run());
        const seen: number[] = [];
        let next = 41;
        const result = await ctx.mod.backupDatabase(source, target, {
          driver: ctx.driver,
          rowsPerStep: 7,
          // The member keeps writing while the copy runs: none of it may show.
          onProgress: (p) => {
            seen.push(p.copiedRows);
            s.append({ entries: [entry(next, 1)] });
            next++;
            assert.ok(p.copiedRows <= p.totalRows);
          },
          finish: (copy) => copy.exec("INSERT INTO conf_kv VALUES ('copied', 'yes')"),
        });
        assert.ok(seen.length > 5, `progress steps: ${seen.join(",")}`);
        assert.equal(seen.at(-1), result.rows);
        assert.ok(s.lastIndex() > 45);
        assert.equal(existsSync(`${target}.partial`), false);
        await rejects(
          ctx.mod.backupDatabase(source, target, { driver: ctx.driver }),
          "ERR_STORAGE_TARGET_EXISTS",
        );
      } finally {
        s.close();
      }
      const copy = await open(ctx, "copy.db");
      try {
        assert.equal(copy.lastIndex(), 40);
        assert.deepEqual(copy.initialState().hardState, { term: 1, vote: BIG_ID, commit: 30 });
        assert.equal(copy.snapshot().index, 20);
        assert.deepEqual(await collect(copy.loadSnapshot()!.chunks()), plain(pattern(350)));
        assert.deepEqual(plain(copy.entries(25, 26)[0]?.data), plain(bytes("e25t1")));
        assert.equal(copy.appliedIndex(), 20);
        const rows = copy.database
          .prepare("SELECT k, v FROM conf_kv ORDER BY k")
          .all()
          .map((r) => ({ k: r.k, v: r.v }));
        assert.deepEqual(rows, [
          { k: "a", v: "1" },
          { k: "copied", v: "yes" },
        ]);
      } finally {
        copy.close();
      }

      await rejects(
        ctx.mod.backupDatabase(join(ctx.dir, "none.db"), join(ctx.dir, "n2.db"), {
          driver: ctx.driver,
        }),
        "ERR_STORAGE_MISSING",
      );
      assert.equal(existsSync(join(ctx.dir, "none.db")), false);
      writeFileSync(join(ctx.dir, "notes.db"), "");
      const other = await ctx.mod.openDatabase(join(ctx.dir, "other.db"), { driver: ctx.driver });
      other.exec("CREATE TABLE users (name TEXT)");
      other.close();
      await rejects(
        ctx.mod.backupDatabase(join(ctx.dir, "other.db"), join(ctx.dir, "o2.db"), {
          driver: ctx.driver,
        }),
        "ERR_STORAGE_NOT_CAIRN",
      );
      assert.equal(existsSync(join(ctx.dir, "o2.db")), false);
      assert.equal(existsSync(join(ctx.dir, "o2.db.partial")), false);
    },
  },
  {
    name: "safety: not-SQLite, another application's SQLite and a newer schema are refused, file unchanged",
    async run(ctx) {
      const text = join(ctx.dir, "notes.db");
      writeFileSync(text, "these are not the pages you are looking for\n".repeat(200));
      const before = readFileSync(text);
      await rejects(open(ctx, "notes.db"), "ERR_STORAGE_NOT_CAIRN");
      assert.deepEqual(readFileSync(text), before);

      const other = await ctx.mod.openDatabase(join(ctx.dir, "other.db"), {
        driver: ctx.driver,
        pragmas: false,
      });
      other.exec("CREATE TABLE users (name TEXT); INSERT INTO users VALUES ('ann')");
      other.close();
      const otherBefore = readFileSync(join(ctx.dir, "other.db"));
      await rejects(open(ctx, "other.db"), "ERR_STORAGE_NOT_CAIRN");
      assert.deepEqual(readFileSync(join(ctx.dir, "other.db")), otherBefore);
      assert.equal(existsSync(join(ctx.dir, "other.db-wal")), false);

      const s = await open(ctx, "future.db");
      s.append({ entries: range(1, 3, 1) });
      s.close();
      const raw = await ctx.mod.openDatabase(join(ctx.dir, "future.db"), { driver: ctx.driver });
      raw.exec(`PRAGMA user_version = ${ctx.mod.SCHEMA_VERSION + 1}`);
      raw.close();
      const futureBefore = readFileSync(join(ctx.dir, "future.db"));
      await assert.rejects(open(ctx, "future.db"), (e: unknown) => {
        assert.equal((e as { code?: string }).code, "ERR_STORAGE_SCHEMA_TOO_NEW");
        assert.match(String((e as Error).message), /future\.db/);
        return true;
      });
      assert.deepEqual(readFileSync(join(ctx.dir, "future.db")), futureBefore);
    },
  },
  {
    name: "log: long reads come back byte for byte over many pages (empty, binary, NUL and non-UTF-8 data)",
    async run(ctx) {
      const s = await open(ctx);
      try {
        // Every page of a long read returns one packed row: the entries'
        // data must come back exactly, whatever bytes it holds.
        const data = (i: number): Uint8Array => {
          if (i % 11 === 0) return new Uint8Array(0);
          if (i % 5 === 0) return new Uint8Array([0, 0xff, 0xfe, 0, 0xc3, 0x28, 44, 0]);
          return pattern(1 + (i % 700), i);
        };
        const ents: { index: number; term: number; type: number; data: Uint8Array }[] = [];
        for (let i = 1; i <= 5_000; i++) {
          ents.push({ index: i, term: 1 + Math.floor(i / 1_000), type: i % 3, data: data(i) });
        }
        s.append({ entries: ents });
        for (const got of [s.entries(1, 5_001), s.entries(1, 5_001, 64 * 1024 * 1024)]) {
          assert.equal(got.length, 5_000);
          for (const [i, e] of got.entries()) {
            const want = ents[i]!;
            assert.equal(e.index, want.index);
            assert.equal(e.term, want.term);
            assert.equal(e.type, want.type);
            assert.deepEqual(plain(e.data), plain(want.data), `data of entry ${want.index}`);
          }
        }
        // A byte budget still cuts between entries, wherever the pages end.
        const cut = s.entries(100, 5_001, 300_000);
        const total = cut.reduce((n, e) => n + e.data.byteLength, 0);
        assert.ok(total <= 300_000 && total + ents[99 + cut.length]!.data.byteLength > 300_000);
      } finally {
        s.close();
      }
      // A row missing from the middle of the log is reported, not skipped.
      const raw = await ctx.mod.openDatabase(join(ctx.dir, "cairn.db"), { driver: ctx.driver });
      raw.prepare("DELETE FROM raft_entries WHERE idx = 3000").run();
      raw.close();
      const t = await open(ctx);
      try {
        assert.equal(t.entries(1, 3_000).length, 2_999);
        assert.throws(
          () => t.entries(1, 5_001),
          (e: unknown) => {
            assert.equal((e as { code?: string }).code, "ERR_STORAGE_CORRUPT");
            assert.match(String((e as Error).message), /log entry 3000 is missing/);
            return true;
          },
        );
      } finally {
        t.close();
      }
    },
  },
  {
    name: "corruption: a damaged entry or snapshot chunk is reported by checksum, with the path",
    async run(ctx) {
      const s = await open(ctx, "cairn.db", { snapshotChunkSize: 100 });
      s.append({ entries: range(1, 5, 1) });
      await s.saveSnapshot({ index: 4, term: 1, confState: { voters: [1n], learners: [] } }, [
        pattern(350),
      ]);
      s.close();
      // Change bytes behind the storage's back, as a failing disk would.
      const raw = await ctx.mod.openDatabase(join(ctx.dir, "cairn.db"), { driver: ctx.driver });
      raw.prepare("UPDATE raft_entries SET data = ? WHERE idx = 3").run(bytes("e3t2"));
      raw
        .prepare("UPDATE raft_snapshot_chunks SET data = ? WHERE seq = 2")
        .run(new Uint8Array(100).fill(0xee));
      raw.close();
      const t = await open(ctx);
      try {
        const corrupt = (e: unknown) => {
          assert.equal((e as { code?: string }).code, "ERR_STORAGE_CORRUPT");
          assert.ok(String((e as Error).message).includes(join(ctx.dir, "cairn.db")), String(e));
          return true;
        };
        assert.deepEqual(
          t.entries(1, 3).map((e) => e.index),
          [1, 2],
        );
        assert.throws(() => t.entries(1, 6), corrupt);
        await assert.rejects(collect(t.loadSnapshot()!.chunks()), corrupt);
      } finally {
        t.close();
      }
    },
  },
];
