/**
 * Spec §7: GET ?wait=true — long polls, waitIndex in history, recursive
 * watches, stream=true, expire events, ancestor deletes reaching child
 * watchers, hidden keys, refresh never delivered.
 */
import { conformance, lateTtl } from "./harness/case.js";
import { dir, event, eventLine, file, gone } from "./harness/v2.js";

/**
 * An expire event's prevNode has a `ttl` counted from when the expiry ran:
 * etcd renders it with its clock as it applies the expiry, so an expiry that
 * runs a second or more after its time (a starved host: seen at 40 % CPU
 * steal) shows `"ttl":-1` where an expiry on time shows none. That is the
 * host's lateness, not behaviour, so it is dropped before comparing.
 */
const dropLateTtl = (s: string) => s.replace(/,"ttl":-\d+/g, "");

const WATCH_HEAD = (index: number) => ({
  status: 200,
  headers: {
    "content-type": "application/json",
    "x-etcd-cluster-id": /^[0-9a-f]+$/,
    "x-etcd-index": String(index),
    "x-raft-index": /^\d+$/,
    "x-raft-term": /^\d+$/,
    "transfer-encoding": "chunked",
  },
});

conformance("§7 watch", "wa", (kase) => {
  kase("wait=true: headers at once, then one event, then the body ends", async (c) => {
    const w = await c.watch(c.keys("/a?wait=true"));
    c.check(
      { ...w.stream, body: Buffer.alloc(0), text: "", request: "watch head" },
      WATCH_HEAD(c.base),
    );
    await c.put(c.keys("/a"), "value=1");
    c.eq(await w.body(), event("set", file(c.k("/a"), "1", c.i(1))), "event");
  });

  kase("every action reaches a watcher with its prevNode", async (c) => {
    const steps: [() => Promise<unknown>, string][] = [
      [
        () => c.put(c.keys("/a?prevExist=false"), "value=1"),
        event("create", file(c.k("/a"), "1", c.i(1))),
      ],
      [
        () => c.put(c.keys("/a"), "value=2"),
        event("set", file(c.k("/a"), "2", c.i(2)), file(c.k("/a"), "1", c.i(1))),
      ],
      [
        () => c.put(c.keys("/a?prevExist=true"), "value=3"),
        event("update", file(c.k("/a"), "3", c.i(3), c.i(2)), file(c.k("/a"), "2", c.i(2))),
      ],
      [
        () => c.put(c.keys("/a?prevValue=3"), "value=4"),
        event(
          "compareAndSwap",
          file(c.k("/a"), "4", c.i(4), c.i(2)),
          file(c.k("/a"), "3", c.i(3), c.i(2)),
        ),
      ],
      [
        () => c.del(c.keys("/a?prevValue=4")),
        event(
          "compareAndDelete",
          gone(c.k("/a"), c.i(5), c.i(2)),
          file(c.k("/a"), "4", c.i(4), c.i(2)),
        ),
      ],
      [() => c.put(c.keys("/a"), "value=5"), event("set", file(c.k("/a"), "5", c.i(6)))],
      [
        () => c.del(c.keys("/a")),
        event("delete", gone(c.k("/a"), c.i(7), c.i(6)), file(c.k("/a"), "5", c.i(6))),
      ],
    ];
    let n = 0;
    for (const [write, expected] of steps) {
      const w = await c.watch(c.keys("/a?wait=true"));
      c.eq(
        w.stream.headers.find(([h]) => h === "x-etcd-index")?.[1],
        String(c.i(n)),
        "X-Etcd-Index at registration",
      );
      await write();
      c.eq(await w.body(), expected, `event ${++n}`);
    }
  });

  kase("waitIndex in history answers at once with the first matching event", async (c) => {
    await c.put(c.keys("/a"), "value=1");
    await c.put(c.keys("/b"), "value=1");
    await c.put(c.keys("/a"), "value=2");
    const w = await c.watch(c.keys(`/a?wait=true&waitIndex=${c.i(2)}`));
    c.check(
      { ...w.stream, body: Buffer.alloc(0), text: "", request: "watch head" },
      WATCH_HEAD(c.i(3)),
    );
    c.eq(
      await w.body(),
      event("set", file(c.k("/a"), "2", c.i(3)), file(c.k("/a"), "1", c.i(1))),
      "event",
    );
    const w1 = await c.watch(c.keys(`/a?wait=true&waitIndex=${c.i(1)}`));
    c.eq(await w1.body(), event("set", file(c.k("/a"), "1", c.i(1))), "event at waitIndex");
  });

  kase("waitIndex in the future waits for it", async (c) => {
    const w = await c.watch(c.keys(`/a?wait=true&waitIndex=${c.i(2)}`));
    await c.put(c.keys("/a"), "value=1");
    await c.put(c.keys("/a"), "value=2");
    c.eq(
      await w.body(),
      event("set", file(c.k("/a"), "2", c.i(2)), file(c.k("/a"), "1", c.i(1))),
      "event",
    );
  });

  kase("waitIndex=0 means no waitIndex: waits for the next event", async (c) => {
    await c.put(c.keys("/z"), "value=old");
    const w = await c.watch(c.keys("/z?wait=true&waitIndex=0"));
    await c.put(c.keys("/z"), "value=new");
    c.eq(
      await w.body(),
      event("set", file(c.k("/z"), "new", c.i(2)), file(c.k("/z"), "old", c.i(1))),
      "event",
    );
  });

  kase("recursive waitIndex in history finds a descendant's event", async (c) => {
    await c.put(c.keys("/top/x"), "value=1");
    await c.put(c.keys("/other"), "value=1");
    await c.put(c.keys("/top/y/z"), "value=2");
    const w = await c.watch(c.keys(`/top?wait=true&recursive=true&waitIndex=${c.i(2)}`));
    c.eq(await w.body(), event("set", file(c.k("/top/y/z"), "2", c.i(3))), "event");
  });

  kase("recursive=true sees descendants; a plain watch on a directory does not", async (c) => {
    await c.put(c.keys("/d"), "dir=true");
    const rec = await c.watch(c.keys("/d?wait=true&recursive=true"));
    const flat = await c.watch(c.keys("/d?wait=true"));
    await c.put(c.keys("/d/x/y"), "value=1");
    c.eq(await rec.body(), event("set", file(c.k("/d/x/y"), "1", c.i(2))), "recursive event");
    c.eq(await flat.silentFor(300), true, "plain directory watch stays silent");
    await c.del(c.keys("/d?recursive=true"));
    c.eq(
      await flat.body(),
      event("delete", gone(c.k("/d"), c.i(3), c.i(1), true), dir(c.k("/d"), c.i(1))),
      "dir delete",
    );
  });

  kase("deleting an ancestor reaches watchers of a child (event key = the ancestor)", async (c) => {
    await c.put(c.keys("/d/x/y"), "value=1");
    const w = await c.watch(c.keys("/d/x/y?wait=true"));
    await c.del(c.keys("/d?recursive=true"));
    c.eq(
      await w.body(),
      event("delete", gone(c.k("/d"), c.i(2), c.i(1), true), dir(c.k("/d"), c.i(1))),
      "event",
    );
  });

  kase("a watch on a missing key fires when it is created", async (c) => {
    const w = await c.watch(c.keys("/new/deep?wait=true"));
    await c.put(c.keys("/new/other"), "value=0");
    await c.put(c.keys("/new/deep"), "value=1");
    c.eq(await w.body(), event("set", file(c.k("/new/deep"), "1", c.i(2))), "event");
  });

  kase("stream=true: newline-terminated events on one open response", async (c) => {
    const w = await c.watch(c.keys("/s?wait=true&stream=true&recursive=true"));
    c.check(
      { ...w.stream, body: Buffer.alloc(0), text: "", request: "watch head" },
      WATCH_HEAD(c.base),
    );
    await c.put(c.keys("/s/a"), "value=1");
    await c.put(c.keys("/s/b"), "value=2");
    await c.del(c.keys("/s/a"));
    const lines = await w.lines(3);
    c.eq(
      lines,
      [
        eventLine("set", file(c.k("/s/a"), "1", c.i(1))),
        eventLine("set", file(c.k("/s/b"), "2", c.i(2))),
        eventLine("delete", gone(c.k("/s/a"), c.i(3), c.i(1)), file(c.k("/s/a"), "1", c.i(1))),
      ],
      "streamed events",
    );
    c.eq(w.stream.ended(), false, "stream still open");
    w.close();
  });

  kase(
    "stream=true with a waitIndex in history: only that one event, then silence (etcd quirk)",
    async (c) => {
      // etcd answers a watch found in history with that single event and never
      // registers the watcher for live events, even with stream=true.
      await c.put(c.keys("/s"), "value=1");
      await c.put(c.keys("/s"), "value=2");
      const w = await c.watch(c.keys(`/s?wait=true&stream=true&waitIndex=${c.i(1)}`));
      c.eq(await w.lines(1), [eventLine("set", file(c.k("/s"), "1", c.i(1)))], "events");
      await c.put(c.keys("/s"), "value=3");
      await w.silentFor(400);
      c.eq(w.stream.received(), event("set", file(c.k("/s"), "1", c.i(1))), "nothing more arrives");
      w.close();
    },
  );

  kase("expire: an event shaped like a delete, prevNode keeps its expiration", async (c) => {
    await c.put(c.keys("/t"), "value=v&ttl=2", { mask: lateTtl(2) });
    // From the expire's index, in case the key expires before the watch registers.
    const w = await c.watch(c.keys(`/t?wait=true&waitIndex=${c.i(2)}`));
    c.eq(
      await w.body(8_000, dropLateTtl),
      event(
        "expire",
        gone(c.k("/t"), c.i(2), c.i(1)),
        file(c.k("/t"), "v", c.i(1), c.i(1), { ttl: "none" }),
      ),
      "expire event",
    );
  });

  kase("expire of a directory reaches watchers of its descendants", async (c) => {
    // Five seconds, so a starved host (seen: stalls of 2-3 s) still creates
    // /td/x in the directory before it expires.
    await c.put(c.keys("/td"), "dir=true&ttl=5", { mask: lateTtl(5) });
    await c.put(c.keys("/td/x"), "value=1");
    // From the expire's index: on a starved machine the directory may expire
    // before the watch is registered, and the history then has the event.
    const w = await c.watch(c.keys(`/td/x?wait=true&waitIndex=${c.i(3)}`));
    c.eq(
      await w.body(12_000, dropLateTtl),
      event(
        "expire",
        gone(c.k("/td"), c.i(3), c.i(1), true),
        dir(c.k("/td"), c.i(1), c.i(1), { ttl: "none" }),
      ),
      "expire event",
    );
  });

  kase("refresh writes are never delivered (live or from history)", async (c) => {
    await c.put(c.keys("/r"), "value=v&ttl=100");
    const w = await c.watch(c.keys("/r?wait=true"));
    await c.put(c.keys("/r?refresh=true"), "ttl=200");
    await c.put(c.keys("/r?prevExist=true"), "value=w");
    c.eq(
      await w.body(),
      event(
        "update",
        file(c.k("/r"), "w", c.i(3), c.i(2)),
        file(c.k("/r"), "v", c.i(2), c.i(2), { ttl: 200 }),
      ),
      "first delivered event",
    );
    const h = await c.watch(c.keys(`/r?wait=true&waitIndex=${c.i(2)}`));
    c.eq(
      await h.body(),
      event(
        "update",
        file(c.k("/r"), "w", c.i(3), c.i(2)),
        file(c.k("/r"), "v", c.i(2), c.i(2), { ttl: 200 }),
      ),
      "history skips the refresh",
    );
    await c.del(c.keys("/r"));
  });

  kase(
    "hidden keys: ancestors' live watchers are not told; the key's own watcher is",
    async (c) => {
      await c.put(c.keys("/h"), "dir=true");
      const anc = await c.watch(c.keys("/h?wait=true&recursive=true"));
      const own = await c.watch(c.keys("/h/_x?wait=true"));
      await c.put(c.keys("/h/_x"), "value=1");
      c.eq(await own.body(), event("set", file(c.k("/h/_x"), "1", c.i(2))), "own watcher");
      c.eq(await anc.silentFor(300), true, "ancestor watcher silent");
      await c.put(c.keys("/h/_x/../y"), "value=2");
      await c.put(c.keys("/h/y"), "value=2");
      c.eq(
        await anc.body(),
        event("set", file(c.k("/h/y"), "2", c.i(3))),
        "ancestor gets the visible key",
      );
    },
  );

  kase("hidden keys: history replay does not filter them", async (c) => {
    await c.put(c.keys("/h/_x"), "value=1");
    const w = await c.watch(c.keys(`/h?wait=true&recursive=true&waitIndex=${c.i(1)}`));
    c.eq(await w.body(), event("set", file(c.k("/h/_x"), "1", c.i(1))), "replayed hidden event");
  });

  kase("a watcher under a hidden directory is notified of its own key", async (c) => {
    const w = await c.watch(c.keys("/_hd/k?wait=true"));
    await c.put(c.keys("/_hd/k"), "value=1");
    c.eq(await w.body(), event("set", file(c.k("/_hd/k"), "1", c.i(1))), "event");
  });

  kase("many watchers of one key all get the event", async (c) => {
    const watches = await Promise.all(
      Array.from({ length: 10 }, () => c.watch(c.keys("/m?wait=true"))),
    );
    await c.put(c.keys("/m"), "value=1");
    for (const w of watches)
      c.eq(await w.body(), event("set", file(c.k("/m"), "1", c.i(1))), "event");
  });

  kase("a watcher that hangs up is dropped (stats/store watchers)", async (c) => {
    const watchers = async () =>
      (
        JSON.parse((await c.get("/v2/stats/store", { unrecorded: true })).text) as {
          watchers: number;
        }
      ).watchers;
    const before = await watchers();
    const a = await c.watch(c.keys("/a?wait=true"));
    const b = await c.watch(c.keys("/b?wait=true"));
    c.eq((await watchers()) - before, 2, "two watchers registered");
    a.close();
    let n = -1;
    for (let t = 0; t < 50 && n !== 1; t++) {
      await new Promise((r) => setTimeout(r, 100));
      n = (await watchers()) - before;
    }
    c.eq(n, 1, "the closed watcher is gone");
    await c.put(c.keys("/b"), "value=1");
    c.eq(await b.body(), event("set", file(c.k("/b"), "1", c.i(1))), "the other still fires");
    c.eq((await watchers()) - before, 0, "a fired watcher is gone");
  });

  kase("stream=true: expire and recursive delete events", async (c) => {
    await c.put(c.keys("/s/x"), "value=1");
    // A stream takes no event from the history (it would get that one alone),
    // so the TTL leaves a starved machine (seen: stalls of 2-3 s) five seconds
    // to register it.
    await c.put(c.keys("/s/t"), "value=2&ttl=5", { mask: lateTtl(5) });
    const w = await c.watch(c.keys("/s?wait=true&stream=true&recursive=true"));
    const lines = await w.lines(1, 12_000, dropLateTtl);
    await c.del(c.keys("/s?recursive=true"));
    const all = await w.lines(2);
    c.eq(
      [lines[0], all[1]],
      [
        eventLine(
          "expire",
          gone(c.k("/s/t"), c.i(3), c.i(2)),
          file(c.k("/s/t"), "2", c.i(2), c.i(2), { ttl: "none" }),
        ),
        eventLine("delete", gone(c.k("/s"), c.i(4), c.i(1), true), dir(c.k("/s"), c.i(1))),
      ],
      "events",
    );
    w.close();
  });

  kase("recursive watch from the root sees a case key", async (c) => {
    const w = await c.watch(`/v2/keys/?wait=true&recursive=true&waitIndex=${c.i(1)}`);
    await c.put(c.keys("/x"), "value=1");
    c.eq(await w.body(), event("set", file(c.k("/x"), "1", c.i(1))), "event");
  });
});
