/**
 * Story: with `--snapshot-count 20` the members snapshot every 20 applied
 * entries. One member is stopped while thousands of writes go through the
 * other two; the leader's log is compacted past what the stopped member has,
 * so when it comes back the leader must send it a snapshot. It installs it
 * and ends up with every key, at the same indexes.
 *
 * How many writes: like etcd (its snapshot catch-up entries), a member keeps
 * 5000 entries behind each snapshot for slow followers, so a follower that
 * missed fewer than ~5000 entries catches up from the log. Only more than
 * that forces the snapshot path, hence 5,200 writes.
 *
 * On a starved machine a member can stall past the stories' 500 ms election
 * timeout and the leader steps down; the writes then in flight time out
 * (etcd's "request timed out", outcome unknown) and are sent again, as a
 * client would.
 */
import { stopAll } from "@cairn/testkit";
import { afterAll, describe, expect, it } from "vitest";
import { Cluster, get, put, type V2Node } from "./support/cluster.js";

afterAll(stopAll);

const WRITES = 5_200;
const CONCURRENCY = 48;

describe("catch-up by snapshot", () => {
  let cluster: Cluster | undefined;
  afterAll(async () => {
    await cluster?.destroy();
  });

  it("a member stopped through 5,200 writes comes back and installs a snapshot, with every key", async () => {
    cluster = await Cluster.start({ args: ["--snapshot-count", "20"] });
    const c = cluster;
    const leader = await c.leader();
    const down = c.members.find((m) => m !== leader)!;
    const up = c.members.filter((m) => m !== down);
    expect(await down.terminate()).toBe(0);

    // Writes through both live members, many clients at once.
    let next = 0;
    const failed: string[] = [];
    const acked = new Map<string, number>();
    const retried = new Set<string>();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async (_, w) => {
        while (next < WRITES) {
          const i = next++;
          const key = `/s/k${String(i).padStart(5, "0")}`;
          for (let attempt = 1; ; attempt++) {
            const res = await put(up[w % up.length]!, key, { value: `v${i}` }, 30_000);
            if (res.status === 201) {
              acked.set(key, (res.json as { node: V2Node }).node.modifiedIndex);
            } else if (attempt < 3 && res.text.includes("request timed out")) {
              retried.add(key);
              continue;
            } else {
              failed.push(`${key}: ${res.status} ${res.text.trim()}`);
            }
            break;
          }
        }
      }),
    );
    expect(failed, failed.slice(0, 3).join("; ")).toEqual([]);
    expect(acked.size).toBe(WRITES);

    // The leader snapshotted (every 20 entries) and compacted its log.
    const saved = leader.logged("saved snapshot");
    expect(saved.length).toBeGreaterThan(WRITES / 20 / 2);
    expect(Math.max(...saved.map((l) => Number(l["compacted-to"])))).toBeGreaterThan(0);

    // The stopped member returns and is sent a snapshot.
    down.start();
    await c.waitHealthy([down]);
    const reference = await get(leader, "/s", "recursive=true&sorted=true&quorum=true");
    expect(reference.status).toBe(200);
    const wantNodes = (reference.json as { node: V2Node }).node.nodes!;
    expect(wantNodes).toHaveLength(WRITES);
    let nodes: V2Node[] | undefined;
    for (let i = 0; i < 300; i++) {
      const res = await get(down, "/s", "recursive=true&sorted=true");
      nodes = (res.json as { node?: V2Node }).node?.nodes;
      if (nodes?.length === WRITES) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(nodes).toEqual(wantNodes);
    for (const n of wantNodes) {
      // A write sent again may have been applied the first time too, later.
      if (retried.has(n.key)) expect(n.modifiedIndex).toBeGreaterThanOrEqual(acked.get(n.key)!);
      else expect(n.modifiedIndex).toBe(acked.get(n.key));
      expect(n.value).toBe(`v${Number(n.key.slice(4))}`);
    }

    // By snapshot, not by replaying the log: it received and applied one.
    expect(down.logged("received snapshot").length).toBeGreaterThan(0);
    expect(down.logged("applied snapshot").length).toBeGreaterThan(0);
    // (by whichever live member leads by then)
    expect(up.some((m) => m.logged("sending snapshot").length > 0)).toBe(true);

    // And it keeps up afterwards: a new write through it is applied everywhere.
    const after = await put(down, "/s/after", { value: "x" });
    expect(after.status, after.text).toBe(201);
    for (const m of c.members) {
      expect((await get(m, "/s/after", "quorum=true")).status).toBe(200);
    }
  }, 240_000);
});
