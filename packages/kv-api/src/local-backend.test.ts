import { describe, expect, it } from "vitest";
import { LocalBackend } from "./local-backend.js";

describe("LocalBackend", () => {
  it("expires keys on its own timer through the SYNC request, advancing the raft index", async () => {
    const backend = new LocalBackend({ sweepIntervalMs: 20 });
    try {
      const now = Math.round((performance.timeOrigin + performance.now()) * 1000);
      const put = await backend.propose({ method: "PUT", key: "/t", expiration: now, time: now });
      expect(put.event?.node.expiration).toBe(now);
      const raftAfterPut = put.raftIndex;
      const deadline = Date.now() + 5_000;
      let gone = false;
      while (!gone && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 25));
        const r = await backend.read(
          { key: "/t", recursive: false, sorted: false, time: now },
          { linearizable: false },
        );
        gone = r.error?.errorCode === 100;
      }
      expect(gone).toBe(true);
      expect(backend.store.index).toBe(5); // 3 internal records, the set, the expire
      const after = await backend.read(
        { key: "/", recursive: false, sorted: false, time: now },
        { linearizable: false },
      );
      expect(after.raftIndex).toBeGreaterThan(raftAfterPut);
      expect((await backend.storeStats()).expireCount).toBe(1);
    } finally {
      backend.close();
    }
  });

  it("ids follow etcd: peer URLs + token give the member id, which gives the cluster id", () => {
    const b = new LocalBackend({ peerURLs: ["http://127.0.0.1:23800"] });
    b.close();
    // Recomputed in spec bootstrap.md §1.
    expect(b.memberId).toBe("2e1259d415f2a040");
  });
});
