import { join } from "node:path";
import {
  ConfChangeType,
  decodeConfChange,
  type Entry,
  EntryType,
  encodeConfChange,
} from "@cairn/raft";
import { openStorage } from "@cairn/storage";
import { tempDir } from "@cairn/testkit";
import { describe, expect, it } from "vitest";
import { forceNewCluster } from "./standalone.js";

const change = (type: ConfChangeType, index: number, nodeId: bigint, term = 1): Entry => ({
  index,
  term,
  type: EntryType.ConfChange,
  data: encodeConfChange({ type, nodeId, context: new Uint8Array(0) }),
});
const add = (index: number, nodeId: bigint, term = 1) =>
  change(ConfChangeType.AddNode, index, nodeId, term);
const normal = (index: number, term: number): Entry => ({
  index,
  term,
  type: EntryType.Normal,
  data: new TextEncoder().encode(`e${index}`),
});

describe("forceNewCluster", () => {
  it("keeps the committed log, drops the uncommitted tail, adds self first and removes every other member, all committed", async () => {
    const dir = tempDir("cairn-force-");
    const storage = await openStorage(join(dir.path, "cairn.db"));
    try {
      // Founded by 1, 2, 3; 4 added, 3 removed later; 7 and 8 are not committed.
      const committed = [
        add(1, 1n),
        add(2, 2n),
        add(3, 3n),
        normal(4, 2),
        add(5, 4n, 2),
        change(ConfChangeType.RemoveNode, 6, 3n, 2),
      ];
      storage.append({ hardState: { term: 2, vote: 2n, commit: 6 }, entries: committed });
      storage.append({ entries: [normal(7, 2), normal(8, 2)] });

      const removed = forceNewCluster(storage, 0xabcn, ["http://127.0.0.1:9"]);

      expect(removed).toEqual([1n, 2n, 4n]);
      expect(storage.initialState().hardState).toEqual({ term: 2, vote: 2n, commit: 10 });
      expect(storage.lastIndex()).toBe(10);
      expect(storage.entries(1, 7).map((e) => e.data)).toEqual(committed.map((e) => e.data));
      const changes = storage.entries(7, 11).map((e) => {
        expect(e.type).toBe(EntryType.ConfChange);
        expect(e.term).toBe(2);
        const cc = decodeConfChange(e.data);
        return [cc.type, cc.nodeId, new TextDecoder().decode(cc.context)];
      });
      expect(changes).toEqual([
        [ConfChangeType.AddNode, 0xabcn, '{"peerURLs":["http://127.0.0.1:9"]}'],
        [ConfChangeType.RemoveNode, 1n, ""],
        [ConfChangeType.RemoveNode, 2n, ""],
        [ConfChangeType.RemoveNode, 4n, ""],
      ]);
    } finally {
      storage.close();
      dir.remove();
    }
  });

  it("a member that is already the only voter changes nothing", async () => {
    const dir = tempDir("cairn-force-");
    const storage = await openStorage(join(dir.path, "cairn.db"));
    try {
      storage.append({
        hardState: { term: 1, vote: 0n, commit: 2 },
        entries: [add(1, 5n), normal(2, 1)],
      });
      expect(forceNewCluster(storage, 5n, ["http://127.0.0.1:9"])).toEqual([]);
      expect(storage.lastIndex()).toBe(2);
      expect(storage.initialState().hardState.commit).toBe(2);
    } finally {
      storage.close();
      dir.remove();
    }
  });
});
