import { describe, expect, it } from "vitest";
import {
  CompactedError,
  type Entry,
  EntryType,
  MemoryLogStorage,
  SnapshotOutOfDateError,
  UnavailableError,
} from "../src/index.js";
import { Inflights } from "../src/progress.js";

function ents(from: number, terms: number[]): Entry[] {
  return terms.map((term, i) => ({
    index: from + i,
    term,
    type: EntryType.Normal,
    data: new Uint8Array([from + i]),
  }));
}

describe("MemoryLogStorage", () => {
  it("starts empty: first index 1, last index 0, term 0 at index 0", () => {
    const s = new MemoryLogStorage();
    expect(s.firstIndex()).toBe(1);
    expect(s.lastIndex()).toBe(0);
    expect(s.term(0)).toBe(0);
    expect(s.initialState()).toEqual({
      hardState: { term: 0, vote: 0n, commit: 0 },
      confState: { voters: [], learners: [] },
    });
  });

  it("an append replaces the log from its first index on", () => {
    const s = new MemoryLogStorage();
    s.append(ents(1, [1, 1, 1, 2]));
    s.append(ents(3, [3]));
    expect(s.lastIndex()).toBe(3);
    expect([1, 2, 3].map((i) => s.term(i))).toEqual([1, 1, 3]);
    expect(() => s.append(ents(6, [3]))).toThrow(/missing log entry/);
  });

  it("returns entries within a byte budget, never none", () => {
    const s = new MemoryLogStorage();
    s.append(ents(1, [1, 1, 1, 1]));
    expect(s.entries(1, 5, 0)).toHaveLength(1);
    expect(s.entries(1, 5, 34)).toHaveLength(2); // 17 bytes each
    expect(s.entries(1, 5, 1e9)).toHaveLength(4);
    expect(() => s.entries(1, 6, 1e9)).toThrow(UnavailableError);
  });

  it("compacts behind a snapshot and answers for the snapshot's entry", () => {
    const s = new MemoryLogStorage();
    s.append(ents(1, [1, 1, 2, 2, 3]));
    const snap = s.createSnapshot(3, { voters: [1n], learners: [] }, new Uint8Array([9]));
    expect(snap.metadata).toEqual({ index: 3, term: 2, confState: { voters: [1n], learners: [] } });
    s.compact(3);
    expect(s.firstIndex()).toBe(4);
    expect(s.term(3)).toBe(2);
    expect(() => s.term(2)).toThrow(CompactedError);
    expect(() => s.entries(3, 5, 1e9)).toThrow(CompactedError);
    expect(s.entries(4, 6, 1e9).map((e) => e.index)).toEqual([4, 5]);
    expect(() => s.createSnapshot(2, { voters: [], learners: [] }, new Uint8Array())).toThrow(
      SnapshotOutOfDateError,
    );
    // Appending entries that are already compacted skips them.
    s.append(ents(2, [1, 2, 2, 3, 3]));
    expect(s.lastIndex()).toBe(6);
  });

  it("installing a snapshot replaces everything", () => {
    const s = new MemoryLogStorage();
    s.append(ents(1, [1, 1]));
    s.applySnapshot({
      metadata: { index: 10, term: 4, confState: { voters: [1n, 2n], learners: [3n] } },
      data: new Uint8Array(),
    });
    expect(s.firstIndex()).toBe(11);
    expect(s.lastIndex()).toBe(10);
    expect(s.term(10)).toBe(4);
    expect(s.initialState().confState).toEqual({ voters: [1n, 2n], learners: [3n] });
  });
});

describe("Inflights", () => {
  it("bounds appends in flight by count and by bytes, freeing by acknowledgement", () => {
    const f = new Inflights(3, 100);
    f.add(1, 10);
    f.add(2, 10);
    expect(f.full()).toBe(false);
    f.add(3, 10);
    expect(f.full()).toBe(true);
    f.freeLE(2);
    expect(f.count).toBe(1);
    expect(f.full()).toBe(false);
    f.add(4, 95);
    expect(f.bytes).toBe(105);
    expect(f.full()).toBe(true);
    f.freeFirstOne();
    expect(f.count).toBe(1);
    f.freeLE(4);
    expect(f.count).toBe(0);
    expect(f.bytes).toBe(0);
  });
});
