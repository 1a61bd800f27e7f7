/**
 * `append(…, { sync: false })` then `flush()`: the write path that keeps the
 * fsync off the caller's thread. Every batch flushed is there after a reopen,
 * across checkpoints that restart or truncate the WAL under the descriptor
 * `flush` holds.
 */

import { join } from "node:path";
import { tempDir } from "@cairn/testkit";
import { describe, expect, it } from "vitest";
import { openStorage } from "../src/index.js";

const entry = (index: number, term: number) => ({
  index,
  term,
  type: 0 as const,
  data: new TextEncoder().encode(`entry ${index}`.padEnd(600, ".")),
});

describe("flush", () => {
  it("keeps every flushed batch (flush and flushSync) across WAL checkpoints, restarts and truncations", async () => {
    const dir = tempDir("cairn-storage-flush-");
    const path = join(dir.path, "cairn.db");
    try {
      const s = await openStorage(path);
      await s.flush(); // nothing written yet: resolves
      let index = 0;
      for (let round = 0; round < 6; round++) {
        for (let i = 0; i < 50; i++) {
          const batch = [entry(++index, 1), entry(++index, 1)];
          s.append(
            { hardState: { term: 1, vote: 0n, commit: index - 2 }, entries: batch },
            {
              sync: false,
            },
          );
          if (i % 2 === 0) await s.flush();
          else s.flushSync();
        }
        // Moves the WAL's frames into the database; TRUNCATE also empties the file.
        s.database.exec(`PRAGMA wal_checkpoint(${round % 2 === 0 ? "RESTART" : "TRUNCATE"})`);
      }
      s.close();
      const again = await openStorage(path);
      try {
        expect(again.lastIndex()).toBe(index);
        expect(again.initialState().hardState.commit).toBe(index - 2);
        const all = again.entries(1, index + 1);
        expect(all.map((e) => e.index)).toEqual(Array.from({ length: index }, (_, i) => i + 1));
        expect(new TextDecoder().decode(all[index - 1]!.data)).toMatch(/^entry 600\./);
      } finally {
        again.close();
      }
    } finally {
      dir.remove();
    }
  });

  it("refuses to flush a closed storage", async () => {
    const dir = tempDir("cairn-storage-flush-");
    try {
      const s = await openStorage(join(dir.path, "cairn.db"));
      s.append({ entries: [entry(1, 1)] }, { sync: false });
      s.close();
      await expect(s.flush()).rejects.toThrow(/closed/);
      expect(() => s.flushSync()).toThrow(/closed/);
    } finally {
      dir.remove();
    }
  });
});
