/**
 * Crash test for snapshots: SIGKILL a process while it saves its own
 * snapshots and installs a leader's; the old snapshot or the whole new one
 * must be there, with log, state tables and applied index in step. See
 * crash/harness.ts.
 */

import { join } from "node:path";
import { stopAll, tempDir } from "@cairn/testkit";
import { afterAll, describe, expect, it } from "vitest";
import { crc32 } from "../src/crc32.js";
import { openStorage } from "../src/index.js";
import {
  CYCLES,
  expectedSnapshotCrc,
  lines,
  prng,
  runAndKill,
  SEED,
  type SnapOp,
} from "./crash/harness.js";

afterAll(stopAll);

describe("crash: SIGKILL while saving and installing snapshots (node, better-sqlite3)", () => {
  it(`leaves the old snapshot or the whole new one, log and state in step (${CYCLES} kills, seed ${SEED})`, async () => {
    const dir = tempDir("cairn-storage-crash-snap-");
    const path = join(dir.path, "cairn.db");
    const random = prng(SEED + 1);
    let current: SnapOp | undefined;
    let lastInstall: SnapOp | undefined;
    let completed = 0;
    let midWrite = 0;
    try {
      for (let cycle = 1; cycle <= CYCLES; cycle++) {
        const proc = await runAndKill("snapshot", path, cycle, Math.floor(random() * 300));
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
        if (inFlight !== undefined) midWrite++;
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
      console.log(
        `crash/snapshot: ${CYCLES} kills, ${completed} acknowledged saves/installs, ${midWrite} kills mid-transfer`,
      );
      // Enough transfers finished to check survivors, not only cut-offs.
      expect(completed).toBeGreaterThan(CYCLES / 5);
      expect(midWrite).toBeGreaterThan(CYCLES / 10);
      const final = await openStorage(path, { integrityCheck: "full" });
      final.close();
    } finally {
      dir.remove();
    }
  }, 240_000);
});
