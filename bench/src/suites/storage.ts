/**
 * `pnpm bench storage [--big-mb N] [--seconds S]`: durable append throughput
 * of @cairn/storage (one transaction and one fsync per call) for batches of
 * 1, 16 and 256 entries of 256 bytes, side by side with this disk's raw rate
 * of a 4 KiB write + fdatasync measured in the same run; then the cost of the
 * integrity check on open for a big file, and the cost of reading every
 * INTEGER as bigint.
 */

import {
  closeSync,
  fdatasyncSync,
  mkdtempSync,
  openSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Entry, openStorage } from "@cairn/storage";
import type { Suite, SuiteContext } from "../suite.js";

function arg(args: readonly string[], name: string, fallback: number): number {
  const i = args.indexOf(name);
  const v = i >= 0 ? Number(args[i + 1]) : Number.NaN;
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

/** ms per (4 KiB write + fdatasync), rewriting a small ring of blocks so only the data is synced. */
function rawFsyncMs(dir: string, seconds: number): number {
  const path = join(dir, "raw.bin");
  const fd = openSync(path, "w");
  const block = new Uint8Array(4096).fill(0x5a);
  try {
    // Pre-extend so the timed writes never change the file size.
    for (let i = 0; i < 16; i++) writeSync(fd, block, 0, block.length, i * 4096);
    fdatasyncSync(fd);
    let n = 0;
    const start = performance.now();
    const until = start + seconds * 1000;
    while (performance.now() < until || n < 20) {
      writeSync(fd, block, 0, block.length, (n % 16) * 4096);
      fdatasyncSync(fd);
      n++;
    }
    return (performance.now() - start) / n;
  } finally {
    closeSync(fd);
  }
}

async function appendRate(
  dir: string,
  batch: number,
  seconds: number,
): Promise<{ msPerCall: number; entriesPerSec: number; calls: number }> {
  const path = join(dir, `append-${batch}.db`);
  const s = await openStorage(path);
  try {
    const data = new Uint8Array(256);
    for (let i = 0; i < data.length; i++) data[i] = (i * 13) & 0xff;
    let next = 1;
    const call = () => {
      const entries: Entry[] = [];
      for (let i = 0; i < batch; i++) entries.push({ index: next + i, term: 1, type: 0, data });
      next += batch;
      // As the member does: the hard state rides in the same transaction.
      s.append({ hardState: { term: 1, vote: 1n, commit: next - 1 }, entries });
    };
    for (let i = 0; i < 10; i++) call(); // warm up: WAL created, statements hot
    let calls = 0;
    const start = performance.now();
    const until = start + seconds * 1000;
    while (performance.now() < until || calls < 20) {
      call();
      calls++;
    }
    const ms = performance.now() - start;
    return { msPerCall: ms / calls, entriesPerSec: (calls * batch * 1000) / ms, calls };
  } finally {
    s.close();
    rmSync(path, { force: true });
  }
}

async function integrityCost(ctx: SuiteContext, dir: string, megabytes: number): Promise<void> {
  const path = join(dir, "big.db");
  ctx.log(`building a ${megabytes} MB data file for the integrity-check figures...`);
  let s = await openStorage(path);
  const data = new Uint8Array(4000).fill(7);
  let next = 1;
  const perBatch = 256;
  const batches = Math.ceil((megabytes * 1024 * 1024) / (perBatch * data.length));
  for (let b = 0; b < batches; b++) {
    const entries: Entry[] = [];
    for (let i = 0; i < perBatch; i++) entries.push({ index: next++, term: 1, type: 0, data });
    s.append({ entries });
  }
  s.close();
  const mb = statSync(path).size / (1024 * 1024);
  for (const check of ["none", "quick", "full"] as const) {
    const start = performance.now();
    s = await openStorage(path, { integrityCheck: check });
    const ms = performance.now() - start;
    s.close();
    ctx.report({ name: `open with integrity check '${check}'`, value: ms, unit: "ms", fileMB: mb });
    if (check !== "none") {
      ctx.report({
        name: `integrity check '${check}' rate`,
        value: mb / (ms / 1000),
        unit: "MB/s",
      });
    }
  }
  // Reading cost with every INTEGER as bigint (what the drivers do) against
  // the same columns read as REAL (plain numbers): the bigint toll.
  s = await openStorage(path, { integrityCheck: "none" });
  try {
    const db = s.database;
    const asBigint = db.prepare(
      "SELECT idx, term, type FROM raft_entries WHERE idx >= ? AND idx < ?",
    );
    const asNumber = db.prepare(
      "SELECT CAST(idx AS REAL) AS idx, CAST(term AS REAL) AS term, CAST(type AS REAL) AS type FROM raft_entries WHERE idx >= ? AND idx < ?",
    );
    const rows = Math.min(next - 1, 50_000);
    for (const [label, stmt] of [
      ["bigint", asBigint],
      ["number", asNumber],
    ] as const) {
      stmt.all(1, rows + 1);
      const start = performance.now();
      for (let r = 0; r < 5; r++) stmt.all(1, rows + 1);
      const ns = ((performance.now() - start) * 1e6) / (5 * rows);
      ctx.report({ name: `read 3 integer columns as ${label}`, value: ns, unit: "ns/row" });
    }
    const start = performance.now();
    let read = 0;
    for (let lo = 1; lo + 256 <= rows; lo += 256) read += s.entries(lo, lo + 256).length;
    const ms = performance.now() - start;
    ctx.report({
      name: "entries() read, 4000-byte entries, checksums verified",
      value: (read * 1000) / ms,
      unit: "entries/s",
    });
  } finally {
    s.close();
    rmSync(path, { force: true });
  }
}

const suite: Suite = {
  name: "storage",
  description:
    "durable appends (one fsync per call) for batches of 1/16/256 x 256 B, next to raw 4 KiB write+fdatasync; integrity-check cost on open",
  async run(ctx) {
    const seconds = arg(ctx.args, "--seconds", 3);
    const bigMb = arg(ctx.args, "--big-mb", 256);
    const dir = mkdtempSync(join(tmpdir(), "cairn-bench-storage-"));
    try {
      ctx.log(`files in ${dir} (the same disk for every figure)`);
      const rawBefore = rawFsyncMs(dir, seconds);
      ctx.report({ name: "raw 4 KiB write + fdatasync", value: rawBefore, unit: "ms" });
      ctx.report({
        name: "raw 4 KiB write + fdatasync rate",
        value: 1000 / rawBefore,
        unit: "ops/s",
      });
      const results: { batch: number; msPerCall: number; entriesPerSec: number }[] = [];
      for (const batch of [1, 16, 256]) {
        const r = await appendRate(dir, batch, seconds);
        results.push({ batch, ...r });
        ctx.log(`batch ${batch}: ${r.calls} calls`);
      }
      // Measure raw again and use the mean: a shared disk drifts.
      const rawAfter = rawFsyncMs(dir, seconds);
      const raw = (rawBefore + rawAfter) / 2;
      ctx.report({ name: "raw 4 KiB write + fdatasync (after)", value: rawAfter, unit: "ms" });
      for (const r of results) {
        ctx.report({
          name: `append batch=${r.batch} x 256 B`,
          value: r.entriesPerSec,
          unit: "entries/s",
          batch: r.batch,
        });
        ctx.report({
          name: `append batch=${r.batch} cost per call`,
          value: r.msPerCall,
          unit: "ms",
          batch: r.batch,
        });
        ctx.report({
          name: `append batch=${r.batch} / raw fsync`,
          value: r.msPerCall / raw,
          unit: "x",
          batch: r.batch,
          target: r.batch === 1 ? 1.5 : undefined,
        });
      }
      const b256 = results.find((r) => r.batch === 256);
      if (b256 !== undefined) {
        ctx.report({
          name: "append batch=256 vs 150k entries/s target",
          value: b256.entriesPerSec / 150_000,
          unit: "x of target",
        });
      }
      await integrityCost(ctx, dir, bigMb);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default suite;
