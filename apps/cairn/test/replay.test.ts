/**
 * Story: a lone member takes thousands of writes (several log pages and
 * several 4 MiB batches of committed entries: small and large values,
 * multi-byte UTF-8, commas, empty values, overwrites, directories, deletes),
 * is killed with SIGKILL, and starts again on its data directory. It replays
 * its whole log (no snapshot) and serves every acknowledged key exactly as
 * before the crash: the same JSON, byte for byte, with the same indexes.
 */
import { stopAll } from "@cairn/testkit";
import { afterAll, describe, expect, it } from "vitest";
import { Cluster, get, put, request, type V2Node } from "./support/cluster.js";

afterAll(stopAll);

/** Writes, over this many keys, this many clients at a time. */
const WRITES = 6_000;
const KEYS = 500;
const CLIENTS = 16;

/** The value of write `i`: sizes from 0 to about 3 KiB, some multi-byte and some with commas. */
function writeValue(i: number): string {
  if (i % 97 === 0) return "";
  const unit = i % 3 === 0 ? "é✓," : i % 3 === 1 ? "v" : "0123456789,";
  return `${i}:${unit.repeat(1 + ((i * 7919) % 300))}`;
}

describe("replay after a crash", () => {
  let cluster: Cluster | undefined;
  afterAll(async () => {
    await cluster?.destroy();
  });

  it("SIGKILL after thousands of writes: the restarted member serves every acknowledged key with its exact JSON", async () => {
    // No snapshot: the whole log is replayed at the restart.
    cluster = await Cluster.start({ size: 1, args: ["--snapshot-count", "1000000"] });
    const m = cluster.members[0]!;

    /** Acknowledged writes: key -> the node of the last acknowledgement. */
    const acked = new Map<string, V2Node>();
    let next = 0;
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        while (next < WRITES) {
          const i = next++;
          const key = `/replay/d${i % 7}/k${i % KEYS}`;
          const res = await put(m, key, { value: writeValue(i) });
          expect(res.status, res.text).toBeLessThan(300);
          const node = (res.json as { node: V2Node }).node;
          const seen = acked.get(key);
          if (seen === undefined || seen.modifiedIndex < node.modifiedIndex) acked.set(key, node);
        }
      }),
    );
    // A directory and a key removed, so the replay deletes as well as sets.
    expect((await put(m, "/replay/gone/x", { value: "x" })).status).toBe(201);
    const removed = await request(m, "/v2/keys/replay/gone?recursive=true", { method: "DELETE" });
    expect(removed.status, removed.text).toBe(200);
    const removedKey = [...acked.keys()][0]!;
    expect((await request(m, `/v2/keys${removedKey}`, { method: "DELETE" })).status).toBe(200);
    acked.delete(removedKey);

    const before = await get(m, "/replay", "recursive=true&sorted=true");
    expect(before.status).toBe(200);
    const bodies = new Map<string, string>();
    for (const key of acked.keys()) bodies.set(key, (await get(m, key)).text);

    await m.kill();
    m.start();
    await cluster.waitHealthy([m], 60_000);
    expect(m.logged("restarting member")).toHaveLength(1);

    // The whole tree, byte for byte, then every key on its own.
    const after = await get(m, "/replay", "recursive=true&sorted=true");
    expect(after.status).toBe(200);
    expect(after.text).toBe(before.text);
    for (const [key, node] of acked) {
      const res = await get(m, key);
      expect(res.text, key).toBe(bodies.get(key));
      const got = (res.json as { node: V2Node }).node;
      expect(got.value, key).toBe(node.value);
      expect(got.modifiedIndex, key).toBe(node.modifiedIndex);
    }
    expect((await get(m, removedKey)).status).toBe(404);
    expect((await get(m, "/replay/gone")).status).toBe(404);
  }, 180_000);
});
