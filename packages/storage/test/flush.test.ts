/**
 * `append(…, { sync: false })` then `flush()`: the write path that keeps the
 * fsync off the caller's thread. Every batch flushed is there after a reopen,
 * across checkpoints that restart or truncate the WAL under the descriptor
 * `flush` holds, and the file stays the one that descriptor opened: `flush`
 * opens it once and does not check it again.
 */

import { statSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "@cairn/testkit";
import { describe, expect, it } from "vitest";
import { backupDatabase, openStorage } from "../src/index.js";

const entry = (index: number, term: number) => ({
  index,
  term,
  type: 0 as const,
  data: new TextEncoder().encode(`entry ${index}`.padEnd(600, ".")),
});

describe("flush", () => {
  it("keeps every flushed batch (flush and flushSync) in the one WAL file across checkpoints, truncations and a backup", async () => {
    const dir = tempDir("cairn-storage-flush-");
    const path = join(dir.path, "cairn.db");
    try {
      const s = await openStorage(path);
      await s.flush(); // nothing written yet: resolves
      const wal = statSync(`${path}-wal`).ino;
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
        // Another connection (a backup) opens and closes the live file.
        if (round === 2) await backupDatabase(path, join(dir.path, "backup.db"));
        expect(statSync(`${path}-wal`).ino).toBe(wal);
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

  it("keeps a snapshot saved and a log compacted without an fsync once flushed, and syncs later writes again", async () => {
    const dir = tempDir("cairn-storage-flush-");
    const path = join(dir.path, "cairn.db");
    const conf = { voters: [1n], learners: [] };
    const synchronous = (s: { database: { prepare(sql: string): { get(): unknown } } }) =>
      Number(
        (s.database.prepare("PRAGMA synchronous").get() as { synchronous: unknown }).synchronous,
      );
    try {
      const s = await openStorage(path, { compactionMargin: 2 });
      for (let i = 1; i <= 20; i++) s.append({ entries: [entry(i, 1)] });
      await s.saveSnapshot({ index: 12, term: 1, confState: conf }, [new Uint8Array([1, 2, 3])], {
        sync: false,
      });
      expect(synchronous(s)).toBe(2); // FULL again
      await s.flush();
      expect(s.compact(12, { sync: false })).toBe(11);
      expect(synchronous(s)).toBe(2);
      // A source that fails leaves the previous snapshot and FULL behind.
      const failing = async function* () {
        yield new Uint8Array([9]);
        throw new Error("source broke");
      };
      await expect(
        s.saveSnapshot({ index: 15, term: 1, confState: conf }, failing(), { sync: false }),
      ).rejects.toThrow("source broke");
      expect(synchronous(s)).toBe(2);
      await s.flush();
      s.close();
      const again = await openStorage(path, { compactionMargin: 2 });
      try {
        expect(again.snapshot().index).toBe(12);
        expect(again.firstIndex()).toBe(11);
        expect(again.lastIndex()).toBe(20);
        const reader = again.loadSnapshot();
        const bytes: number[] = [];
        for await (const chunk of reader!.stream()) bytes.push(...chunk);
        expect(bytes).toEqual([1, 2, 3]);
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
