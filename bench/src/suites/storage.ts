/**
 * `pnpm bench storage [--quick] [--big-mb N] [--seconds S]`: durable append throughput
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

/** One timed sample: wall ms and CPU ms (user + system) per operation. */
interface Sample {
  wallMs: number;
  cpuMs: number;
}

/** Runs `op` for about `ms` milliseconds (at least `min` times) and returns per-op costs. */
function sample(op: () => void, ms: number, min = 5): Sample {
  let n = 0;
  const cpu = process.cpuUsage();
  const start = performance.now();
  const until = start + ms;
  while (performance.now() < until || n < min) {
    op();
    n++;
  }
  const wall = performance.now() - start;
  const used = process.cpuUsage(cpu);
  return { wallMs: wall / n, cpuMs: (used.user + used.system) / 1000 / n };
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** A 4 KiB write + fdatasync, rewriting a small ring of pre-extended blocks (data only, no size change). */
function rawFsync(dir: string): { op: () => void; close: () => void } {
  const fd = openSync(join(dir, "raw.bin"), "w");
  const block = new Uint8Array(4096).fill(0x5a);
  for (let i = 0; i < 16; i++) writeSync(fd, block, 0, block.length, i * 4096);
  fdatasyncSync(fd);
  let n = 0;
  return {
    op: () => {
      writeSync(fd, block, 0, block.length, (n++ % 16) * 4096);
      fdatasyncSync(fd);
    },
    close: () => closeSync(fd),
  };
}

/** Appends of `batch` entries of 256 bytes, each with a hard state as the member writes it. */
async function appender(dir: string, batch: number) {
  const path = join(dir, `append-${batch}.db`);
  const s = await openStorage(path);
  const data = new Uint8Array(256);
  for (let i = 0; i < data.length; i++) data[i] = (i * 13) & 0xff;
  let next = 1;
  const op = () => {
    const entries: Entry[] = [];
    for (let i = 0; i < batch; i++) entries.push({ index: next + i, term: 1, type: 0, data });
    next += batch;
    s.append({ hardState: { term: 1, vote: 1n, commit: next - 1 }, entries });
  };
  for (let i = 0; i < 10; i++) op(); // warm up: WAL created, statements hot
  return { batch, op, close: () => s.close() };
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
  // The toll of reading every INTEGER as bigint (what all three drivers do):
  // the same 3-column values read from INTEGER columns (bigint) and from REAL
  // columns (plain numbers), in small rows so only the conversion differs.
  s = await openStorage(path, { integrityCheck: "none" });
  try {
    const db = s.database;
    const rows = 50_000;
    db.exec(
      "CREATE TEMP TABLE t_int (a INTEGER, b INTEGER, c INTEGER); CREATE TEMP TABLE t_real (a REAL, b REAL, c REAL)",
    );
    db.transaction(() => {
      const a = db.prepare("INSERT INTO t_int VALUES (?, ?, ?)");
      const b = db.prepare("INSERT INTO t_real VALUES (?, ?, ?)");
      for (let i = 0; i < rows; i++) {
        a.run(i * 1000, i, 1);
        b.run(i * 1000, i, 1);
      }
    });
    for (const [label, table] of [
      ["bigint (INTEGER)", "t_int"],
      ["number (REAL)", "t_real"],
    ] as const) {
      const stmt = db.prepare(`SELECT a, b, c FROM ${table}`);
      stmt.all();
      const x = sample(() => stmt.all(), 1000, 3);
      ctx.report({
        name: `read 3 columns as ${label}`,
        value: (x.cpuMs * 1e6) / rows,
        unit: "CPU ns/row",
      });
    }
    const start = performance.now();
    let read = 0;
    for (let lo = 1; lo + 256 <= Math.min(next - 1, 20_000); lo += 256) {
      read += s.entries(lo, lo + 256).length;
    }
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
    // --quick (the harness's smoke flag): short runs and a small file.
    const quick = ctx.args.includes("--quick");
    const seconds = arg(ctx.args, "--seconds", quick ? 0.5 : 3);
    const bigMb = arg(ctx.args, "--big-mb", quick ? 16 : 256);
    const dir = mkdtempSync(join(tmpdir(), "cairn-bench-storage-"));
    try {
      ctx.log(`files in ${dir} (the same disk for every figure)`);
      // The disk and CPUs are shared: raw fsync and every batch size are
      // measured in interleaved rounds and compared round by round (medians),
      // so a drift of the machine affects all of them alike.
      const rounds = quick ? 3 : 12;
      const slice = (seconds * 1000) / 4;
      const raw = rawFsync(dir);
      const appenders = [await appender(dir, 1), await appender(dir, 16), await appender(dir, 256)];
      const rawSamples: Sample[] = [];
      const samples = new Map<number, Sample[]>(appenders.map((a) => [a.batch, []]));
      try {
        for (let r = 0; r < rounds; r++) {
          rawSamples.push(sample(raw.op, slice));
          for (const a of appenders) samples.get(a.batch)!.push(sample(a.op, slice));
        }
      } finally {
        raw.close();
        for (const a of appenders) a.close();
      }
      const rawMs = median(rawSamples.map((x) => x.wallMs));
      ctx.report({ name: "raw 4 KiB write + fdatasync", value: rawMs, unit: "ms", rounds });
      ctx.report({ name: "raw 4 KiB write + fdatasync rate", value: 1000 / rawMs, unit: "ops/s" });
      for (const [batch, list] of samples) {
        const wall = median(list.map((x) => x.wallMs));
        const cpu = median(list.map((x) => x.cpuMs));
        const ratio = median(list.map((x, i) => x.wallMs / rawSamples[i]!.wallMs));
        ctx.report({
          name: `append batch=${batch} x 256 B`,
          value: (batch * 1000) / wall,
          unit: "entries/s",
          batch,
        });
        ctx.report({ name: `append batch=${batch} cost per call`, value: wall, unit: "ms", batch });
        ctx.report({ name: `append batch=${batch} CPU per call`, value: cpu, unit: "ms", batch });
        ctx.report({
          name: `append batch=${batch} / raw fsync`,
          value: ratio,
          unit: "x",
          batch,
          ...(batch === 1 ? { target: 1.5 } : {}),
        });
        if (batch === 256) {
          ctx.report({
            name: "append batch=256 vs 150k entries/s target",
            value: (batch * 1000) / wall / 150_000,
            unit: "x of target",
          });
        }
      }
      await integrityCost(ctx, dir, bigMb);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default suite;
