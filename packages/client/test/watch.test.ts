import { type EtcdCluster, waitFor } from "@cairn/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client, EventIndexClearedError, type KeysResponse } from "../src/index.js";
import { type CuttableProxy, startProxy } from "./support/proxy.js";
import { servers } from "./support/servers.js";

async function writeMany(c: Client, prefix: string, n: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      await c.set(`${prefix}/${i % 50}`, String(i));
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}

describe.each(servers("@cairn/client watch tests"))("watch against $name", (kind) => {
  let server: EtcdCluster;
  let proxy: CuttableProxy;
  let direct: Client;
  beforeAll(async () => {
    server = await kind.start();
    proxy = await startProxy(server.endpoints);
    direct = new Client({ endpoints: server.endpoints });
  }, 60_000);
  afterAll(async () => {
    await proxy?.close();
    await server?.stop();
  });

  it("yields events in order and filters by key / recursion", async () => {
    const start = await direct.set("/w1/a", "0");
    const w = direct.watch("/w1", { recursive: true, afterIndex: start.index });
    await direct.set("/w1/a", "1");
    await direct.set("/w1/sub/b", "2");
    await direct.delete("/w1/a");
    const got: string[] = [];
    for await (const ev of w) {
      got.push(`${ev.action} ${ev.node.key} ${ev.node.value ?? ""}`);
      if (got.length === 3) break;
    }
    expect(got).toEqual(["set /w1/a 1", "set /w1/sub/b 2", "delete /w1/a "]);
  });

  it("resumes from the next index after the connection drops, without missing or repeating", async () => {
    const c = new Client({ endpoints: proxy.url, requestTimeoutMs: 1_000 });
    const first = await direct.set("/w2/k", "v0");
    const reconnects: number[] = [];
    const w = c.watch("/w2/k", {
      afterIndex: first.index,
      onReconnect: (_e, n) => reconnects.push(n),
    });
    const events: KeysResponse[] = [];

    await direct.set("/w2/k", "v1");
    events.push((await w.next()).value!);

    // A poll is now pending through the proxy. Cut it, refuse connections for a while,
    // and write three changes meanwhile.
    const pending = w.next();
    await new Promise((r) => setTimeout(r, 200));
    await proxy.pause();
    for (const v of ["v2", "v3", "v4"]) await direct.set("/w2/k", v);
    await new Promise((r) => setTimeout(r, 300));
    await proxy.resume();

    events.push((await pending).value!);
    events.push((await w.next()).value!);
    events.push((await w.next()).value!);
    await direct.set("/w2/k", "v5");
    events.push((await w.next()).value!);
    w.close();

    expect(events.map((e) => e.node.value)).toEqual(["v1", "v2", "v3", "v4", "v5"]);
    const idx = events.map((e) => e.node.modifiedIndex);
    expect(idx).toEqual([...idx].sort((a, b) => a - b));
    expect(new Set(idx).size).toBe(idx.length);
    expect(reconnects.length).toBeGreaterThan(0);
  });

  it("a poll cut after the server answered resumes at once, even with reconnectTimeoutMs 0", async () => {
    const c = new Client({ endpoints: proxy.url });
    const first = await direct.set("/w5/k", "a");
    const w = c.watch("/w5/k", { afterIndex: first.index, reconnectTimeoutMs: 0 });
    const before = proxy.answered();
    const pending = w.next();
    // Cut once the server's answer (the long poll's headers) came through.
    await waitFor(() => proxy.answered() > before, {
      timeoutMs: 10_000,
      what: "the poll answered",
    });
    proxy.cut();
    await new Promise((r) => setTimeout(r, 100));
    await direct.set("/w5/k", "b");
    expect((await pending).value?.node.value).toBe("b");
    w.close();
  });

  it("reports 401 when the history is gone, and the documented recovery works", async () => {
    const old = await direct.set("/w3/cfg", "a");
    // etcd keeps the last 1000 events: push the old index out of the history.
    await writeMany(direct, "/w3filler", 1010);
    const w = direct.watch("/w3/cfg", { afterIndex: old.index });
    const err = await w.next().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EventIndexClearedError);
    const e = err as EventIndexClearedError;
    expect(e.errorCode).toBe(401);
    expect(e.requestedIndex).toBe(old.index + 1);
    expect(e.oldestIndex).toBeGreaterThan(old.index + 1);
    expect(e.index).toBeGreaterThanOrEqual(old.index + 1010);

    // Recovery: re-read, then watch from the read's index.
    const now = await direct.get("/w3/cfg");
    expect(now.node.value).toBe("a");
    const w2 = direct.watch("/w3/cfg", { afterIndex: now.index });
    await direct.set("/w3/cfg", "b");
    const ev = await w2.next();
    expect(ev.value?.node.value).toBe("b");
    w2.close();
  });

  it("stops a pending watch when closed or aborted", async () => {
    const ac = new AbortController();
    const w = direct.watch("/w4/never", { signal: ac.signal });
    const pending = w.next().catch((e: unknown) => e);
    setTimeout(() => ac.abort(), 100);
    expect(await pending).toMatchObject({ name: "ClientAbortedError" });
    expect(await w.next()).toEqual({ done: true, value: undefined });
  });
});
