/**
 * Crash test for appends: SIGKILL a writer at random moments; every
 * acknowledged batch must survive, the batch in flight must be all or nothing,
 * and the hard state must go with its batch. See crash/harness.ts.
 */

import { join } from "node:path";
import { stopAll, tempDir } from "@cairn/testkit";
import { afterAll, describe, expect, it } from "vitest";
import { openStorage } from "../src/index.js";
import {
  applyBatch,
  CYCLES,
  type LogModel,
  lines,
  matches,
  prng,
  runAndKill,
  SEED,
} from "./crash/harness.js";

afterAll(stopAll);

describe("crash: SIGKILL during appends (node, better-sqlite3)", () => {
  it(`keeps every acknowledged batch and never shows a partial one (${CYCLES} kills, seed ${SEED})`, async () => {
    const dir = tempDir("cairn-storage-crash-");
    const path = join(dir.path, "cairn.db");
    const random = prng(SEED);
    const model: LogModel = new Map();
    let hard = { term: 0, vote: 0n, commit: 0 };
    let acked = 0;
    let midWrite = 0; // kills that landed between "begin" and "ack"
    let landed = 0; // ... whose batch turned out to be durable anyway
    try {
      for (let cycle = 1; cycle <= CYCLES; cycle++) {
        const proc = await runAndKill("append", path, cycle, Math.floor(random() * 120));
        const events = lines(proc.stdout());
        // Replay acknowledged batches on the model; remember the one in flight.
        let inFlight: { k: number; lo: number; hi: number; term: number } | undefined;
        // Every 10th cycle checks the whole log; the others from the first index written.
        let from = cycle % 10 === 0 ? 1 : Number.MAX_SAFE_INTEGER;
        for (const ev of events) {
          const [lo, hi, term] = ev.fields.map(Number) as [number, number, number];
          if (ev.kind === "begin") {
            from = Math.min(from, lo);
            inFlight = { k: ev.k, lo, hi, term };
          } else {
            const b = inFlight!;
            applyBatch(model, cycle, b.k, b.lo, b.hi, b.term);
            hard = { term: b.term, vote: (1n << 63n) + BigInt(b.k), commit: b.lo - 1 };
            inFlight = undefined;
            acked++;
          }
        }
        if (inFlight !== undefined) midWrite++;
        const s = await openStorage(path);
        try {
          const withFlight = new Map(model);
          if (inFlight !== undefined) {
            applyBatch(withFlight, cycle, inFlight.k, inFlight.lo, inFlight.hi, inFlight.term);
          }
          const plain = matches(s, model, from);
          const flight = inFlight === undefined ? plain : matches(s, withFlight, from);
          const context = `cycle ${cycle} (seed ${SEED}): ${plain} / with in-flight batch: ${flight}\n${proc.stdout().slice(-300)}`;
          expect(plain === undefined || flight === undefined, context).toBe(true);
          if (plain !== undefined && inFlight !== undefined) {
            // The in-flight batch made it (durable before the ack was printed): it is ours now.
            landed++;
            applyBatch(model, cycle, inFlight.k, inFlight.lo, inFlight.hi, inFlight.term);
            hard = {
              term: inFlight.term,
              vote: (1n << 63n) + BigInt(inFlight.k),
              commit: inFlight.lo - 1,
            };
          }
          // The hard state went in with its batch: same transaction, same fate.
          expect(s.initialState().hardState, context).toEqual(hard);
          // State rows and the applied index were written together.
          const state = s.database
            .prepare("SELECT count(*) AS n, max(id) AS top FROM crash_applied")
            .get();
          expect(Number(state?.n), context).toBe(s.appliedIndex());
          expect(Number(state?.top ?? 0), context).toBe(s.appliedIndex());
        } finally {
          s.close();
        }
      }
      console.log(
        `crash/append: ${CYCLES} kills, ${acked} acknowledged batches, ${midWrite} kills mid-write (${landed} of those batches were already durable)`,
      );
      expect(acked).toBeGreaterThan(CYCLES);
      // The kills must hit writes in progress, or this test proves little.
      expect(midWrite).toBeGreaterThan(CYCLES / 10);
      const final = await openStorage(path, { integrityCheck: "full" });
      final.close();
    } finally {
      dir.remove();
    }
  }, 240_000);
});
