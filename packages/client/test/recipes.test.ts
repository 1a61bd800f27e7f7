import { type EtcdCluster, waitFor } from "@cairn/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  acquireLock,
  campaign,
  currentLeader,
  dequeue,
  enqueue,
  registerService,
  watchConfig,
} from "../examples/recipes.js";
import { Client } from "../src/index.js";
import { servers } from "./support/servers.js";

describe.each(servers("@cairn/client README recipes"))("README recipes against $name", (kind) => {
  let server: EtcdCluster;
  let client: Client;
  beforeAll(async () => {
    server = await kind.start();
    client = new Client({ endpoints: server.endpoints });
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  it("service registration stays while heartbeating and expires after", async () => {
    const ac = new AbortController();
    // A 10 s TTL heartbeated every 3.3 s: a starved host can stall a refresh
    // for seconds without the registration lapsing.
    await registerService(client, "/services/api/a", "10.0.0.1:80", 10, ac.signal);
    await new Promise((r) => setTimeout(r, 11_000)); // longer than the TTL: only the heartbeat keeps it
    expect((await client.get("/services/api/a")).node.value).toBe("10.0.0.1:80");
    ac.abort();
    await waitFor(
      async () => (await client.get("/services/api/a").catch(() => undefined)) === undefined,
      {
        timeoutMs: 20_000,
        what: "deregistration",
      },
    );
  });

  it("a lock admits one holder at a time, and a waiter gets it on release", async () => {
    const a = await acquireLock(client, "/locks/job", "a", 10);
    const order: string[] = [];
    const b = acquireLock(client, "/locks/job", "b", 10).then((l) => {
      order.push("b acquired");
      return l;
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(order).toEqual([]);
    expect((await client.get("/locks/job")).node.value).toBe("a");
    order.push("a released");
    await a.release();
    const lockB = await b;
    expect(order).toEqual(["a released", "b acquired"]);
    expect((await client.get("/locks/job")).node.value).toBe("b");
    await lockB.release();
  });

  it("leader election: one leader, the next takes over when it resigns", async () => {
    const l1 = await campaign(client, "/election/svc", "n1", 5);
    const second = campaign(client, "/election/svc", "n2", 5);
    expect(await currentLeader(client, "/election/svc")).toBe("n1");
    await l1.resign();
    const l2 = await second;
    expect(await currentLeader(client, "/election/svc")).toBe("n2");
    await l2.resign();
    expect(await currentLeader(client, "/election/svc")).toBeUndefined();
  });

  it("an in-order queue hands each item to exactly one consumer, in order", async () => {
    for (const item of ["j1", "j2", "j3", "j4"]) await enqueue(client, "/queue/jobs", item);
    const taken = await Promise.all([1, 2, 3, 4].map(() => dequeue(client, "/queue/jobs")));
    expect([...taken].sort()).toEqual(["j1", "j2", "j3", "j4"]);
    // empty now: a consumer waits (here, until its signal gives up) ...
    const gaveUp = await dequeue(client, "/queue/jobs", AbortSignal.timeout(300)).catch(
      () => "none",
    );
    expect(gaveUp).toBe("none");
    // ... or until a producer adds an item
    const waiting = dequeue(client, "/queue/jobs");
    await new Promise((r) => setTimeout(r, 200));
    await enqueue(client, "/queue/jobs", "j5");
    expect(await waiting).toBe("j5");
  }, 30_000);

  it("config watch sees the initial state and every later change", async () => {
    await client.set("/config/app/db", "a");
    const ac = new AbortController();
    const seen: string[] = [];
    const done = watchConfig(
      client,
      "/config/app",
      (cfg) => seen.push([...cfg.entries()].map(([k, v]) => `${k}=${v}`).join(",")),
      ac.signal,
    );
    await waitFor(() => seen.length === 1, { what: "initial config" });
    await client.set("/config/app/db", "b");
    await client.set("/config/app/cache", "on");
    await client.delete("/config/app/db");
    await waitFor(() => seen.length === 4, { what: "three changes" });
    ac.abort();
    await done;
    expect(seen).toEqual([
      "/config/app/db=a",
      "/config/app/db=b",
      "/config/app/db=b,/config/app/cache=on",
      "/config/app/cache=on",
    ]);
  });
});
