/**
 * Crash tests: a child process (Node, better-sqlite3, the built package)
 * writes in a loop and announces each write before ("begin") and after the
 * call returned ("ack"); we SIGKILL it at a random moment, reopen the file and
 * check that every acknowledged write is there, that the one write in flight
 * is either wholly there or wholly absent, and that the file opens cleanly
 * (quick_check passes, no leftover staging rows). Seeds are printed so a
 * failure can be replayed with CAIRN_CRASH_SEED.
 */

import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type ManagedProcess, startProcess, stopAll, tempDir, waitFor } from "@cairn/testkit";
import { afterAll, describe, expect, it } from "vitest";
import { crc32 } from "../src/crc32.js";
import { openStorage, type RaftStorage } from "../src/index.js";

const CYCLES = Number(process.env.CAIRN_CRASH_CYCLES ?? 50);
const SEED = Number(process.env.CAIRN_CRASH_SEED ?? Date.now() % 1_000_000);
const child = fileURLToPath(new URL("./crash/child.mjs", import.meta.url));

afterAll(stopAll);

/** A small seeded PRNG (mulberry32): kill times are random but replayable. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Line {
  kind: "begin" | "ack";
  k: number;
  fields: string[];
}

function lines(out: string): Line[] {
  // A line cut by the kill has no newline: ignore it (it was never complete).
  const complete = out.slice(0, out.lastIndexOf("\n") + 1);
  return complete
    .split("\n")
    .filter((l) => l.startsWith("begin ") || l.startsWith("ack "))
    .map((l) => {
      const [kind, k, ...fields] = l.split(" ");
      return { kind: kind as "begin" | "ack", k: Number(k), fields };
    });
}

/** Runs the child until it has written at least once, then kills it after a random delay. */
async function runAndKill(
  mode: string,
  path: string,
  cycle: number,
  delayMs: number,
): Promise<ManagedProcess> {
  const proc = startProcess(process.execPath, {
    args: [child, mode, path, String(cycle)],
    name: `crash-${mode}-${cycle}`,
  });
  await waitFor(() => proc.stdout().includes("ready") || proc.hasExited(), {
    timeoutMs: 20_000,
    what: `crash child ${cycle} to open the file`,
  });
  expect(proc.hasExited(), proc.stderr()).toBe(false);
  await new Promise((resolve) => setTimeout(resolve, delayMs));
  await proc.stop("SIGKILL", 1_000);
  return proc;
}

/** Model of the log: index -> [cycle, batch, term]. */
type LogModel = Map<number, readonly [number, number, number]>;

function applyBatch(
  model: LogModel,
  cycle: number,
  k: number,
  lo: number,
  hi: number,
  term: number,
) {
  for (const i of [...model.keys()]) if (i >= lo) model.delete(i);
  for (let i = lo; i <= hi; i++) model.set(i, [cycle, k, term]);
}

function matches(s: RaftStorage, model: LogModel): string | undefined {
  const last = Math.max(0, ...model.keys());
  if (s.lastIndex() !== last) return `last index ${s.lastIndex()}, expected ${last}`;
  const entries = s.entries(s.firstIndex(), last + 1);
  for (const e of entries) {
    const want = model.get(e.index);
    const text = new TextDecoder().decode(e.data);
    const header = text.slice(0, text.indexOf(":"));
    if (want === undefined) return `unexpected entry ${e.index}`;
    if (e.term !== want[2] || header !== `c${want[0]}k${want[1]}i${e.index}`) {
      return `entry ${e.index}: term ${e.term} '${header}', expected term ${want[2]} c${want[0]}k${want[1]}`;
    }
  }
  return undefined;
}

describe("crash: SIGKILL during appends (node, better-sqlite3)", () => {
  it(`keeps every acknowledged batch and never shows a partial one (${CYCLES} kills, seed ${SEED})`, async () => {
    const dir = tempDir("cairn-storage-crash-");
    const path = join(dir.path, "cairn.db");
    const random = prng(SEED);
    const model: LogModel = new Map();
    let hard = { term: 0, vote: 0n, commit: 0 };
    let acked = 0;
    try {
      for (let cycle = 1; cycle <= CYCLES; cycle++) {
        const proc = await runAndKill("append", path, cycle, Math.floor(random() * 120));
        const events = lines(proc.stdout());
        // Replay acknowledged batches on the model; remember the one in flight.
        let inFlight: { k: number; lo: number; hi: number; term: number } | undefined;
        for (const ev of events) {
          const [lo, hi, term] = ev.fields.map(Number) as [number, number, number];
          if (ev.kind === "begin") {
            inFlight = { k: ev.k, lo, hi, term };
          } else {
            const b = inFlight!;
            applyBatch(model, cycle, b.k, b.lo, b.hi, b.term);
            hard = { term: b.term, vote: (1n << 63n) + BigInt(b.k), commit: b.lo - 1 };
            inFlight = undefined;
            acked++;
          }
        }
        const s = await openStorage(path);
        try {
          const withFlight = new Map(model);
          if (inFlight !== undefined) {
            applyBatch(withFlight, cycle, inFlight.k, inFlight.lo, inFlight.hi, inFlight.term);
          }
          const plain = matches(s, model);
          const flight = inFlight === undefined ? plain : matches(s, withFlight);
          const context = `cycle ${cycle} (seed ${SEED}): ${plain} / with in-flight batch: ${flight}\n${proc.stdout().slice(-300)}`;
          expect(plain === undefined || flight === undefined, context).toBe(true);
          if (plain !== undefined && inFlight !== undefined) {
            // The in-flight batch made it (durable before the ack was printed): it is ours now.
            applyBatch(model, cycle, inFlight.k, inFlight.lo, inFlight.hi, inFlight.term);
            hard = {
              term: inFlight.term,
              vote: (1n << 63n) + BigInt(inFlight.k),
              commit: inFlight.lo - 1,
            };
          }
          // The hard state went in with its batch: same transaction, same fate.
          expect(s.initialState().hardState, context).toEqual(hard);
        } finally {
          s.close();
        }
      }
      expect(acked).toBeGreaterThan(CYCLES);
      const final = await openStorage(path, { integrityCheck: "full" });
      final.close();
    } finally {
      dir.remove();
    }
  }, 240_000);
});

/** The snapshot bytes the child generates for (size, seed), checksummed chunk by chunk. */
function expectedSnapshotCrc(size: number, seed: number): number {
  let crc = 0;
  const piece = 64 * 1024;
  for (let off = 0; off < size; off += piece) {
    const n = Math.min(piece, size - off);
    const out = new Uint8Array(n);
    for (let j = 0; j < n; j++) out[j] = ((off + j) * 31 + seed * 7) & 0xff;
    crc = crc32(out, crc);
  }
  return crc;
}

interface SnapOp {
  k: number;
  kind: "save" | "install";
  index: number;
  term: number;
  size: number;
  seed: number;
}

describe("crash: SIGKILL while saving and installing snapshots (node, better-sqlite3)", () => {
  it(`leaves the old snapshot or the whole new one, log and state in step (${CYCLES} kills, seed ${SEED})`, async () => {
    const dir = tempDir("cairn-storage-crash-snap-");
    const path = join(dir.path, "cairn.db");
    const random = prng(SEED + 1);
    let current: SnapOp | undefined;
    let lastInstall: SnapOp | undefined;
    let completed = 0;
    try {
      for (let cycle = 1; cycle <= CYCLES; cycle++) {
        const proc = await runAndKill("snapshot", path, cycle, Math.floor(random() * 250));
        let inFlight: SnapOp | undefined;
        for (const ev of lines(proc.stdout())) {
          if (ev.kind === "begin") {
            const [kind, index, term, size, seed] = ev.fields;
            inFlight = {
              k: ev.k,
              kind: kind as "save" | "install",
              index: Number(index),
              term: Number(term),
              size: Number(size),
              seed: Number(seed),
            };
          } else {
            current = inFlight!;
            if (current.kind === "install") lastInstall = current;
            inFlight = undefined;
            completed++;
          }
        }
        const s = await openStorage(path);
        try {
          const snap = s.snapshot();
          let seen = current;
          if (
            inFlight !== undefined &&
            snap.index === inFlight.index &&
            snap.index !== current?.index
          ) {
            seen = inFlight; // finished but not acknowledged: allowed, and now the truth
            current = inFlight;
            if (inFlight.kind === "install") lastInstall = inFlight;
          }
          const context = `cycle ${cycle} (seed ${SEED}): snapshot ${snap.index}, acked ${current?.index}, in flight ${inFlight?.kind} ${inFlight?.index}\n${proc.stdout().slice(-300)}`;
          expect(snap.index, context).toBe(seen?.index ?? 0);
          if (seen !== undefined) {
            expect(snap.term, context).toBe(seen.term);
            const reader = s.loadSnapshot()!;
            expect(reader.size, context).toBe(seen.size);
            let crc = 0;
            for await (const chunk of reader.chunks()) crc = crc32(chunk, crc);
            expect(crc, context).toBe(expectedSnapshotCrc(seen.size, seen.seed));
            // The log never falls behind its snapshot.
            expect(s.firstIndex() - 1, context).toBeLessThanOrEqual(snap.index);
            expect(s.lastIndex(), context).toBeGreaterThanOrEqual(snap.index);
          }
          if (lastInstall !== undefined) {
            // State tables changed with the install that carried them.
            const row = s.database.prepare("SELECT v FROM crash_state").get();
            expect(row?.v, context).toBe(`installed ${lastInstall.seed}`);
            expect(s.appliedIndex(), context).toBeGreaterThanOrEqual(lastInstall.index);
            if (seen?.kind === "install") {
              expect(s.appliedIndex(), context).toBe(seen.index);
              expect(s.initialState().hardState.commit, context).toBeGreaterThanOrEqual(seen.index);
            }
          }
          // A snapshot cut off mid-stream leaves nothing behind once reopened.
          const rows = s.database.prepare("SELECT count(*) AS n FROM raft_snapshots").get();
          expect(rows?.n, context).toBe(seen === undefined ? 0n : 1n);
        } finally {
          s.close();
        }
      }
      expect(completed).toBeGreaterThan(CYCLES / 2);
      const final = await openStorage(path, { integrityCheck: "full" });
      final.close();
    } finally {
      dir.remove();
    }
  }, 240_000);
});
