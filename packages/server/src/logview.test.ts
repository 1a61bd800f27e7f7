import { join } from "node:path";
import { CompactedError, type Entry, EntryType } from "@cairn/raft";
import { openStorage, type RaftStorage } from "@cairn/storage";
import { tempDir } from "@cairn/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { StorageLogView } from "./logview.js";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

async function open(): Promise<RaftStorage> {
  const dir = tempDir("cairn-logview-");
  const storage = await openStorage(join(dir.path, "log.db"), { compactionMargin: 0 });
  cleanups.push(() => dir.remove());
  cleanups.push(() => storage.close());
  return storage;
}

const entry = (index: number, term: number, text = `e${index}t${term}`): Entry => ({
  index,
  term,
  type: EntryType.Normal,
  data: new TextEncoder().encode(text),
});

/** Appends to storage and tells the view, as the member does after each write. */
function append(storage: RaftStorage, view: StorageLogView, entries: Entry[]): void {
  storage.append({ entries });
  view.remember(entries);
}

const texts = (entries: Entry[]) => entries.map((e) => new TextDecoder().decode(e.data));

describe("StorageLogView", () => {
  it("answers from its tail exactly as storage does, across a conflicting append", async () => {
    const storage = await open();
    const view = new StorageLogView(storage);
    const cold = new StorageLogView(storage); // never told: reads storage alone
    append(
      storage,
      view,
      [1, 2, 3, 4, 5].map((i) => entry(i, 1)),
    );
    append(storage, view, [entry(4, 2), entry(5, 2), entry(6, 2)]); // replaces 4 and 5
    for (const [lo, hi, max] of [
      [1, 7, Infinity],
      [3, 6, Infinity],
      [2, 7, 9], // cut by bytes, as storage cuts
      [6, 7, 0], // never empty
    ] as const) {
      expect(texts(view.entries(lo, hi, max))).toEqual(texts(cold.entries(lo, hi, max)));
    }
    expect(texts(view.entries(3, 7, Infinity))).toEqual(["e3t1", "e4t2", "e5t2", "e6t2"]);
    expect([1, 3, 4, 6].map((i) => view.term(i))).toEqual([1, 1, 2, 2]);
  });

  it("does not serve compacted entries, nor a tail storage no longer ends with", async () => {
    const storage = await open();
    const view = new StorageLogView(storage);
    append(
      storage,
      view,
      [1, 2, 3, 4].map((i) => entry(i, 1)),
    );
    await storage.saveSnapshot({ index: 2, term: 1, confState: { voters: [1n], learners: [] } }, [
      new Uint8Array(1),
    ]);
    storage.compact(2);
    expect(() => view.entries(1, 3, Infinity)).toThrow(CompactedError);
    expect(texts(view.entries(3, 5, Infinity))).toEqual(["e3t1", "e4t1"]);
    // Written behind the view's back: it reads storage rather than a stale tail.
    storage.append({ entries: [entry(4, 3, "behind"), entry(5, 3)] });
    expect(texts(view.entries(4, 6, Infinity))).toEqual(["behind", "e5t3"]);
    expect(view.term(4)).toBe(3);
  });
});
