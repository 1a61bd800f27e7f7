/**
 * Shared by the crash tests (crash-append.test.ts, crash-snapshot.test.ts).
 *
 * Crash tests: a child process (Node, better-sqlite3, the built package)
 * writes in a loop and announces each write before ("begin") and after the
 * call returned ("ack"); we SIGKILL it at a random moment, reopen the file and
 * check that every acknowledged write is there, that the one write in flight
 * is either wholly there or wholly absent, and that the file opens cleanly
 * (quick_check passes, no leftover staging rows). Seeds are printed so a
 * failure can be replayed with CAIRN_CRASH_SEED.
 */

import { fileURLToPath } from "node:url";
import { type ManagedProcess, startProcess, waitFor } from "@cairn/testkit";
import { expect } from "vitest";
import { crc32 } from "../../src/crc32.js";
import type { RaftStorage } from "../../src/index.js";

export const CYCLES = Number(process.env.CAIRN_CRASH_CYCLES ?? 50);
export const SEED = Number(process.env.CAIRN_CRASH_SEED ?? Date.now() % 1_000_000);
const child = fileURLToPath(new URL("./child.mjs", import.meta.url));

/** A small seeded PRNG (mulberry32): kill times are random but replayable. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Line {
  kind: "begin" | "ack";
  k: number;
  fields: string[];
}

export function lines(out: string): Line[] {
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
export async function runAndKill(
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
export type LogModel = Map<number, readonly [number, number, number]>;

export function applyBatch(
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

/** Compares the stored log from `from` on (and its last index) with the model. */
export function matches(s: RaftStorage, model: LogModel, from: number): string | undefined {
  const last = Math.max(0, ...model.keys());
  if (s.lastIndex() !== last) return `last index ${s.lastIndex()}, expected ${last}`;
  const entries = s.entries(Math.max(s.firstIndex(), Math.min(from, last + 1)), last + 1);
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

/** The snapshot bytes the child generates for (size, seed), checksummed chunk by chunk. */
export function expectedSnapshotCrc(size: number, seed: number): number {
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

export interface SnapOp {
  k: number;
  kind: "save" | "install";
  index: number;
  term: number;
  size: number;
  seed: number;
}
