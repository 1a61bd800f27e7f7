import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeRequest, encodeRequest } from "./codec.js";
import { V2Error } from "./errors.js";
import { V2Store } from "./store.js";
import { formatRfc3339Nano } from "./time.js";
import type { V2Event, V2Request, WriteRequest } from "./types.js";

const T0 = 1_790_000_000_000_000; // µs, 2026
const S = 1_000_000;

function put(key: string, extra: Partial<WriteRequest> = {}): WriteRequest {
  return { method: "PUT", key, time: T0, ...extra };
}

function ok(store: V2Store, req: V2Request): V2Event {
  const r = store.apply(req);
  if (r.event === undefined) throw new Error(`expected an event, got ${JSON.stringify(r)}`);
  return r.event;
}

/** The replicated state without the operation counters (which count failures too). */
function state(store: V2Store): unknown {
  const image = JSON.parse(store.snapshot()) as Record<string, unknown>;
  delete image.stats;
  return image;
}

function fail(store: V2Store, req: V2Request): { errorCode: number; cause: string; index: number } {
  const before = state(store);
  const r = store.apply(req);
  if (r.error === undefined) throw new Error(`expected an error, got ${JSON.stringify(r)}`);
  // A failed request changes nothing.
  expect(state(store)).toEqual(before);
  return { errorCode: r.error.errorCode, cause: r.error.cause, index: r.error.index };
}

/** A watch listener that keeps every event. */
function collect(into: V2Event[]): { event(e: V2Event): boolean } {
  return {
    event(e) {
      into.push(e);
      return true;
    },
  };
}

function get(store: V2Store, key: string, recursive = false, sorted = true) {
  return store.get(key, { recursive, sorted, time: T0 });
}

function getError(store: V2Store, key: string) {
  try {
    get(store, key);
  } catch (e) {
    if (e instanceof V2Error) return { errorCode: e.data.errorCode, cause: e.data.cause };
    throw e;
  }
  throw new Error("expected an error");
}

describe("set / get", () => {
  it("creates parents with the write's index and reports the store index", () => {
    const s = new V2Store();
    const e = ok(s, put("/a/b", { value: "1" }));
    expect(e).toEqual({
      action: "set",
      node: { key: "/a/b", value: "1", modifiedIndex: 1, createdIndex: 1 },
      etcdIndex: 1,
    });
    const root = get(s, "/", true);
    expect(root.node).toEqual({
      key: "/",
      dir: true,
      modifiedIndex: 0,
      createdIndex: 0,
      nodes: [
        {
          key: "/a",
          dir: true,
          modifiedIndex: 1,
          createdIndex: 1,
          nodes: [{ key: "/a/b", value: "1", modifiedIndex: 1, createdIndex: 1 }],
        },
      ],
    });
    expect(root.etcdIndex).toBe(1);
  });

  it("replacing a file recreates it: createdIndex moves, prevNode holds the old node", () => {
    const s = new V2Store();
    ok(s, put("/foo", { value: "bar" }));
    const e = ok(s, put("/foo", { value: "baz" }));
    expect(e.node).toEqual({ key: "/foo", value: "baz", modifiedIndex: 2, createdIndex: 2 });
    expect(e.prevNode).toEqual({ key: "/foo", value: "bar", modifiedIndex: 1, createdIndex: 1 });
  });

  it("set errors: dir over dir and value on dir → 102, under a file → 104, root → 107", () => {
    const s = new V2Store();
    ok(s, put("/d", { dir: true }));
    ok(s, put("/f", { value: "x" }));
    expect(fail(s, put("/d", { dir: true }))).toEqual({ errorCode: 102, cause: "/d", index: 2 });
    expect(fail(s, put("/d", { value: "v" }))).toEqual({ errorCode: 102, cause: "/d", index: 2 });
    expect(fail(s, put("/f/x/y", { value: "v" }))).toEqual({
      errorCode: 104,
      cause: "/f",
      index: 2,
    });
    expect(fail(s, put("/", { value: "v" }))).toEqual({ errorCode: 107, cause: "/", index: 2 });
    // dir=true over a file replaces it.
    const e = ok(s, put("/f", { dir: true }));
    expect(e.node).toEqual({ key: "/f", dir: true, modifiedIndex: 3, createdIndex: 3 });
    expect(e.prevNode?.value).toBe("x");
  });

  it("get errors: 100 names the first missing component, 104 the file in the way", () => {
    const s = new V2Store();
    ok(s, put("/a/b", { value: "1" }));
    expect(getError(s, "/a/x/y")).toEqual({ errorCode: 100, cause: "/a/x" });
    expect(getError(s, "/a/b/c")).toEqual({ errorCode: 104, cause: "/a/b" });
  });

  it("hidden children are never listed but can be read directly", () => {
    const s = new V2Store();
    ok(s, put("/h/_secret", { value: "s" }));
    ok(s, put("/h/x/_y", { value: "s" }));
    ok(s, put("/h/v", { value: "v" }));
    const list = get(s, "/h", true).node.nodes?.map((n) => n.key);
    expect(list).toEqual(["/h/v", "/h/x"]);
    expect(get(s, "/h", true).node.nodes?.[1]?.nodes).toBeUndefined();
    expect(get(s, "/h/_secret").node.value).toBe("s");
  });

  it("sorted listings are in key order at every level", () => {
    const s = new V2Store();
    for (const k of ["/s/c", "/s/a/z", "/s/a/b", "/s/b"]) ok(s, put(k, { value: k }));
    const n = get(s, "/s", true, true).node;
    expect(n.nodes?.map((x) => x.key)).toEqual(["/s/a", "/s/b", "/s/c"]);
    expect(n.nodes?.[0]?.nodes?.map((x) => x.key)).toEqual(["/s/a/b", "/s/a/z"]);
    // non-recursive: children directories come without nodes
    expect(get(s, "/s", false).node.nodes?.[0]?.nodes).toBeUndefined();
  });
});

describe("create, in-order keys, update, compare-and-swap", () => {
  it("create fails with 105 on an existing key", () => {
    const s = new V2Store();
    ok(s, put("/k", { prevExist: false, value: "v1" }));
    expect(fail(s, put("/k", { prevExist: false }))).toEqual({
      errorCode: 105,
      cause: "/k",
      index: 1,
    });
  });

  it("POST names children by the new index, 20 digits", () => {
    const s = new V2Store();
    ok(s, put("/x", { value: "1" }));
    const e = ok(s, { method: "POST", key: "/queue", value: "job", time: T0 });
    expect(e.node).toEqual({
      key: "/queue/00000000000000000002",
      value: "job",
      modifiedIndex: 2,
      createdIndex: 2,
    });
    expect(ok(s, { method: "POST", key: "/", dir: true, time: T0 }).node.key).toBe(
      "/00000000000000000003",
    );
    expect(fail(s, { method: "POST", key: "/x", time: T0 }).errorCode).toBe(104);
  });

  it("update keeps createdIndex and drops a TTL that is not given again", () => {
    const s = new V2Store();
    ok(s, put("/k", { value: "v1", expiration: T0 + 100 * S }));
    const e = ok(s, put("/k", { prevExist: true, value: "v2" }));
    expect(e.node).toEqual({ key: "/k", value: "v2", modifiedIndex: 2, createdIndex: 1 });
    expect(e.prevNode).toEqual({
      key: "/k",
      value: "v1",
      expiration: T0 + 100 * S,
      ttl: 100,
      modifiedIndex: 1,
      createdIndex: 1,
    });
    expect(s.nextExpiration()).toBeUndefined();
    expect(fail(s, put("/nope", { prevExist: true })).errorCode).toBe(100);
  });

  it("update of a directory: only the TTL; the stored modifiedIndex does not move (etcd quirk)", () => {
    const s = new V2Store();
    ok(s, put("/d", { dir: true }));
    expect(fail(s, put("/d", { prevExist: true, value: "x" })).errorCode).toBe(102);
    const e = ok(s, put("/d", { prevExist: true, dir: true, expiration: T0 + 5 * S }));
    expect(e.node).toEqual({
      key: "/d",
      dir: true,
      expiration: T0 + 5 * S,
      ttl: 5,
      modifiedIndex: 2,
      createdIndex: 1,
    });
    expect(get(s, "/d").node.modifiedIndex).toBe(1);
  });

  it("compareAndSwap causes: value, index, both", () => {
    const s = new V2Store();
    ok(s, put("/k", { value: "v4" }));
    expect(fail(s, put("/k", { prevValue: "zz" })).cause).toBe("[zz != v4]");
    expect(fail(s, put("/k", { prevIndex: 7 })).cause).toBe("[7 != 1]");
    expect(fail(s, put("/k", { prevIndex: 7, prevValue: "zz", value: "v5" }))).toEqual({
      errorCode: 101,
      cause: "[zz != v4] [7 != 1]",
      index: 1,
    });
    const e = ok(s, put("/k", { prevIndex: 1, prevValue: "v4", value: "v5" }));
    expect(e.action).toBe("compareAndSwap");
    expect(e.node).toEqual({ key: "/k", value: "v5", modifiedIndex: 2, createdIndex: 1 });
    expect(fail(s, put("/", { prevValue: "a" })).errorCode).toBe(107);
    ok(s, put("/d", { dir: true }));
    expect(fail(s, put("/d", { prevValue: "a" })).errorCode).toBe(102);
    expect(fail(s, put("/missing", { prevValue: "a" })).errorCode).toBe(100);
  });
});

describe("delete and compareAndDelete", () => {
  it("delete rules for files, directories and the root", () => {
    const s = new V2Store();
    ok(s, put("/d/a", { value: "1" }));
    ok(s, put("/e", { dir: true }));
    const del = (key: string, extra: Partial<WriteRequest> = {}): V2Request => ({
      method: "DELETE",
      key,
      time: T0,
      ...extra,
    });
    expect(fail(s, del("/d")).errorCode).toBe(102);
    expect(fail(s, del("/d", { dir: true })).errorCode).toBe(108);
    expect(fail(s, del("/")).errorCode).toBe(107);
    expect(fail(s, del("/zz")).errorCode).toBe(100);
    expect(ok(s, del("/e", { dir: true })).node).toEqual({
      key: "/e",
      dir: true,
      modifiedIndex: 3,
      createdIndex: 2,
    });
    const e = ok(s, del("/d", { recursive: true }));
    expect(e).toEqual({
      action: "delete",
      node: { key: "/d", dir: true, modifiedIndex: 4, createdIndex: 1 },
      prevNode: { key: "/d", dir: true, modifiedIndex: 1, createdIndex: 1 },
      etcdIndex: 4,
    });
  });

  it("a directory holding only hidden children is not empty", () => {
    const s = new V2Store();
    ok(s, put("/d/_h", { value: "1" }));
    expect(fail(s, { method: "DELETE", key: "/d", dir: true, time: T0 }).errorCode).toBe(108);
  });

  it("compareAndDelete: conditions, directories (even recursive), the root's empty cause", () => {
    const s = new V2Store();
    ok(s, put("/k", { value: "a" }));
    ok(s, put("/d", { dir: true }));
    const cad = (key: string, extra: Partial<WriteRequest>): V2Request => ({
      method: "DELETE",
      key,
      time: T0,
      ...extra,
    });
    expect(fail(s, cad("/k", { prevValue: "b" })).cause).toBe("[b != a]");
    expect(fail(s, cad("/d", { prevValue: "b", recursive: true })).errorCode).toBe(102);
    expect(fail(s, cad("/", { prevValue: "b" }))).toEqual({ errorCode: 102, cause: "", index: 2 });
    const e = ok(s, cad("/k", { prevValue: "a" }));
    expect(e).toEqual({
      action: "compareAndDelete",
      node: { key: "/k", modifiedIndex: 3, createdIndex: 1 },
      prevNode: { key: "/k", value: "a", modifiedIndex: 1, createdIndex: 1 },
      etcdIndex: 3,
    });
  });
});

describe("TTL and expiry", () => {
  it("expiration before 2000 means permanent on create; ttl 0 is omitted", () => {
    const s = new V2Store();
    expect(ok(s, put("/old", { expiration: 1000 })).node.expiration).toBeUndefined();
    const e = ok(s, put("/zero", { expiration: T0 }));
    expect(e.node.expiration).toBe(T0);
    expect(e.node.ttl).toBeUndefined();
  });

  it("SYNC expires every due node, one index and one expire event each, subtree included", () => {
    const s = new V2Store();
    ok(s, put("/t/dir", { dir: true, expiration: T0 + 2 * S }));
    ok(s, put("/t/dir/child", { value: "c" }));
    ok(s, put("/t/k", { value: "v", expiration: T0 + 1 * S }));
    ok(s, put("/t/keep", { value: "v", expiration: T0 + 10 * S }));
    const seen: V2Event[] = [];
    s.watch("/t/dir/child", {}, collect(seen));
    s.watch("/t", { recursive: true, stream: true }, collect(seen));
    expect(s.apply({ method: "SYNC", time: T0 + S / 2 })).toEqual({ expired: 0 });
    expect(s.index).toBe(4);
    expect(s.apply({ method: "SYNC", time: T0 + 2 * S })).toEqual({ expired: 2 });
    expect(s.index).toBe(6);
    expect(getError(s, "/t/dir/child").errorCode).toBe(100);
    expect(get(s, "/t/keep").node.value).toBe("v");
    expect(seen.map((e) => [e.action, e.node.key, e.node.modifiedIndex])).toEqual([
      ["expire", "/t/k", 5],
      ["expire", "/t/dir", 6],
      ["expire", "/t/dir", 6],
    ]);
    expect(seen[1]?.prevNode).toEqual({
      key: "/t/dir",
      dir: true,
      expiration: T0 + 2 * S,
      modifiedIndex: 1,
      createdIndex: 1,
    });
    expect(s.stats().expireCount).toBe(2);
  });

  it("ttl is ceil((expiration - now)/1s) with Go's truncation below zero", () => {
    const s = new V2Store();
    ok(s, put("/k", { value: "v", expiration: T0 + 1_500_000 }));
    const at = (t: number) => s.get("/k", { time: t }).node.ttl;
    expect(at(T0)).toBe(2);
    expect(at(T0 + 1_500_000)).toBeUndefined();
    expect(at(T0 + 2_000_000)).toBeUndefined(); // -0.5 s truncates to 0
    expect(at(T0 + 3_000_000)).toBe(-1);
  });

  it("refresh keeps the value, consumes an index, and is never delivered", () => {
    const s = new V2Store();
    ok(s, put("/r", { value: "v", expiration: T0 + 5 * S }));
    const seen: V2Event[] = [];
    s.watch("/r", { stream: true }, collect(seen));
    const e = ok(s, put("/r", { refresh: true, expiration: T0 + 50 * S }));
    expect(e.action).toBe("set");
    expect(e.node).toEqual({
      key: "/r",
      value: "v",
      expiration: T0 + 50 * S,
      ttl: 50,
      modifiedIndex: 2,
      createdIndex: 2,
    });
    const u = ok(s, put("/r", { refresh: true, prevExist: true, expiration: T0 + 60 * S }));
    expect(u.node.createdIndex).toBe(2);
    expect(seen).toEqual([]);
    // Not found in history either.
    const w = s.watch("/r", { sinceIndex: 2 }, { event: () => true });
    expect(w.immediate).toBeUndefined();
    w.cancel();
    expect(fail(s, put("/none", { refresh: true, expiration: T0 })).errorCode).toBe(100);
  });
});

describe("watcher hub and history", () => {
  it("non-recursive watch on a directory ignores children; recursive sees them", () => {
    const s = new V2Store();
    ok(s, put("/w", { dir: true }));
    const flat: V2Event[] = [];
    const deep: V2Event[] = [];
    s.watch("/w", {}, collect(flat));
    s.watch("/w", { recursive: true }, collect(deep));
    ok(s, put("/w/a", { value: "1" }));
    expect(flat).toEqual([]);
    expect(deep.map((e) => e.node.key)).toEqual(["/w/a"]);
    expect(s.stats().watchers).toBe(1);
  });

  it("deleting an ancestor reaches watchers of descendants, with the ancestor's key", () => {
    const s = new V2Store();
    ok(s, put("/p/q/r", { value: "1" }));
    const seen: V2Event[] = [];
    s.watch("/p/q/r", {}, collect(seen));
    ok(s, { method: "DELETE", key: "/p", recursive: true, time: T0 });
    expect(seen.map((e) => [e.action, e.node.key])).toEqual([["delete", "/p"]]);
  });

  it("hidden segments: ancestors' live watchers are not told, the key's own watcher is", () => {
    const s = new V2Store();
    const anc: V2Event[] = [];
    const own: V2Event[] = [];
    s.watch("/h", { recursive: true, stream: true }, collect(anc));
    s.watch("/h/_x/y", {}, collect(own));
    ok(s, put("/h/_x/y", { value: "1" }));
    ok(s, put("/h/z", { value: "1" }));
    expect(anc.map((e) => e.node.key)).toEqual(["/h/z"]);
    expect(own.map((e) => e.node.key)).toEqual(["/h/_x/y"]);
    // History replay does not filter hidden keys.
    const w = s.watch("/h", { recursive: true, sinceIndex: 1 }, { event: () => true });
    expect(w.immediate?.node.key).toBe("/h/_x/y");
    expect(w.immediate?.etcdIndex).toBe(2);
    expect(w.startIndex).toBe(2);
  });

  it("stream watchers keep receiving; one-shot watchers are removed after one event", () => {
    const s = new V2Store();
    const st: number[] = [];
    const one: number[] = [];
    s.watch(
      "/k",
      { stream: true },
      {
        event: (e) => {
          st.push(e.node.modifiedIndex);
          return true;
        },
      },
    );
    s.watch(
      "/k",
      {},
      {
        event: (e) => {
          one.push(e.node.modifiedIndex);
          return true;
        },
      },
    );
    ok(s, put("/k", { value: "1" }));
    ok(s, put("/k", { value: "2" }));
    expect(st).toEqual([1, 2]);
    expect(one).toEqual([1]);
  });

  it("a consumer that refuses an event is dropped and told", () => {
    const s = new V2Store();
    let closed = 0;
    s.watch("/k", { stream: true }, { event: () => false, closed: () => closed++ });
    ok(s, put("/k", { value: "1" }));
    expect(closed).toBe(1);
    expect(s.stats().watchers).toBe(0);
  });

  it("a fan-out whose listeners cancel themselves on delivery counts and reaches every watcher", () => {
    const s = new V2Store();
    const got: number[][] = [];
    const watchRound = () => {
      for (let i = 0; i < 50; i++) {
        got[i] ??= [];
        const w = s.watch(
          "/fan",
          { recursive: true },
          {
            event: (e) => {
              got[i]!.push(e.node.modifiedIndex);
              w.cancel(); // as the HTTP layer does when it finishes a response
              return true;
            },
          },
        );
      }
    };
    watchRound();
    // one watcher that stays and one that cancels another from its listener
    const kept: number[] = [];
    s.watch("/fan", { recursive: true, stream: true }, collect([]));
    s.watch(
      "/fan",
      { recursive: true, stream: true },
      {
        event: (e) => {
          kept.push(e.node.modifiedIndex);
          return true;
        },
      },
    );
    expect(s.stats().watchers).toBe(52);
    ok(s, put("/fan/a", { value: "1" }));
    expect(s.stats().watchers).toBe(2);
    watchRound();
    expect(s.stats().watchers).toBe(52);
    ok(s, put("/fan/b", { value: "2" }));
    expect(s.stats().watchers).toBe(2);
    expect(got.every((g) => g.length === 2 && g[0] === 1 && g[1] === 2)).toBe(true);
    expect(kept).toEqual([1, 2]);
  });
  it("401 with etcd's cause once waitIndex leaves the history; a larger history keeps more", () => {
    const s = new V2Store({ historySize: 5 });
    for (let i = 0; i < 8; i++) ok(s, put("/k", { value: String(i) }));
    expect(s.historyStartIndex).toBe(4);
    expect(() => s.watch("/k", { sinceIndex: 3 }, { event: () => true })).toThrowError(
      "401: The event in requested index is outdated and cleared (the requested history has been cleared [4/3]) [8]",
    );
    const w = s.watch("/k", { sinceIndex: 4 }, { event: () => true });
    expect(w.immediate?.node.value).toBe("3");
    const big = new V2Store({ historySize: 5000 });
    for (let i = 0; i < 1200; i++) ok(big, put("/k", { value: String(i) }));
    expect(big.watch("/k", { sinceIndex: 1 }, { event: () => true }).immediate?.node.value).toBe(
      "0",
    );
    const dflt = new V2Store();
    for (let i = 0; i < 1001; i++) ok(dflt, put("/k", { value: String(i) }));
    expect(dflt.historyStartIndex).toBe(2);
  });

  it("history replay matches a deleted directory whose key is a string prefix (etcd quirk)", () => {
    const s = new V2Store();
    ok(s, put("/fo", { dir: true }));
    ok(s, { method: "DELETE", key: "/fo", dir: true, time: T0 });
    const w = s.watch("/foo", { sinceIndex: 1 }, { event: () => true });
    expect(w.immediate?.node.key).toBe("/fo");
  });

  it("internal records consume indexes and history slots but never reach users", () => {
    const s = new V2Store();
    s.apply({ method: "INTERNAL", key: "/0/members/x", value: "{}" });
    s.apply({ method: "INTERNAL", key: "/0/version", value: "3.4.0" });
    expect(s.index).toBe(2);
    expect(s.internalValue("/0/version")).toBe("3.4.0");
    const w = s.watch("/", { recursive: true, sinceIndex: 1 }, { event: () => true });
    expect(w.immediate).toBeUndefined();
    w.cancel();
    expect(get(s, "/").node.nodes).toBeUndefined();
  });
});

describe("stats", () => {
  it("counts as etcd does, including the failures etcd books as successes", () => {
    const s = new V2Store();
    ok(s, put("/f", { value: "v" }));
    ok(s, put("/d", { dir: true }));
    fail(s, { method: "DELETE", key: "/f", prevValue: "x", time: T0 }); // compare failed: "success"
    fail(s, { method: "DELETE", key: "/d", prevValue: "x", time: T0 }); // directory: "success"
    fail(s, { method: "DELETE", key: "/nope", prevValue: "x", time: T0 }); // missing: fail
    fail(s, put("/", { prevExist: true })); // update of the root: "success"
    fail(s, { method: "POST", key: "/f/x", time: T0 }); // walk through a file: create + set fail
    const st = s.stats();
    expect([st.compareAndDeleteSuccess, st.compareAndDeleteFail]).toEqual([2, 1]);
    expect([st.updateSuccess, st.updateFail]).toEqual([1, 0]);
    expect([st.createFail, st.setsFail, st.setsSuccess]).toEqual([1, 1, 2]);
  });
});

describe("snapshot, codec, determinism", () => {
  it("snapshot → restore reproduces reads, TTLs, history and the next writes", () => {
    const a = new V2Store({ historySize: 10 });
    ok(a, put("/x/y", { value: "1", expiration: T0 + 3 * S }));
    ok(a, put("/x/_h", { value: "h" }));
    ok(a, put("/z", { dir: true }));
    a.apply({ method: "INTERNAL", key: "/0/v", value: "v" });
    const b = new V2Store({ historySize: 10 });
    b.restore(a.snapshot());
    expect(b.snapshot()).toBe(a.snapshot());
    expect(get(b, "/", true)).toEqual(get(a, "/", true));
    expect(b.nextExpiration()).toBe(T0 + 3 * S);
    expect(b.watch("/x/y", { sinceIndex: 1 }, { event: () => true }).immediate?.node.key).toBe(
      "/x/y",
    );
    const next = put("/x/y", { prevValue: "1", value: "2" });
    expect(b.apply(next)).toEqual(a.apply(next));
    expect(b.apply({ method: "SYNC", time: T0 + 10 * S })).toEqual(
      a.apply({ method: "SYNC", time: T0 + 10 * S }),
    );
    expect(b.snapshot()).toBe(a.snapshot());
  });

  const keyArb = fc
    .array(fc.constantFrom("a", "b", "_h", "c"), { minLength: 1, maxLength: 3 })
    .map((parts) => `/${parts.join("/")}`);
  const reqArb: fc.Arbitrary<V2Request> = fc.oneof(
    fc
      .record({
        method: fc.constantFrom("PUT" as const, "POST" as const, "DELETE" as const),
        key: keyArb,
        value: fc.constantFrom("", "v", "w"),
        dir: fc.boolean(),
        prevValue: fc.constantFrom("", "v"),
        prevIndex: fc.nat(30),
        prevExist: fc.option(fc.boolean(), { nil: undefined }),
        recursive: fc.boolean(),
        refresh: fc.boolean(),
        expiration: fc.option(fc.integer({ min: T0, max: T0 + 20 * S }), { nil: undefined }),
        time: fc.constant(T0),
      })
      .map((r) => {
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(r)) if (v !== undefined) out[k] = v;
        return out as unknown as WriteRequest;
      }),
    fc.record({
      method: fc.constant("SYNC" as const),
      time: fc.integer({ min: T0, max: T0 + 20 * S }),
    }),
  );

  it("encodes after headroom: zero bytes, then the same bytes, ASCII or not", () => {
    for (const value of ["plain", "café", "😀 and \u{10ffff}", "x".repeat(300)]) {
      const r: WriteRequest = { method: "PUT", key: "/k", value, time: T0 };
      const plain = encodeRequest(r);
      const roomy = encodeRequest(r, 8);
      expect(roomy.byteLength).toBe(plain.byteLength + 8);
      expect([...roomy.subarray(0, 8)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
      expect(roomy.subarray(8)).toEqual(plain);
      expect(decodeRequest(roomy.subarray(8))).toEqual(decodeRequest(plain));
      expect(decodeRequest(plain)).toMatchObject({ method: "PUT", key: "/k", value });
    }
  });

  it("two stores applying the same log agree on every result and on the final image; requests survive the codec", () => {
    fc.assert(
      fc.property(fc.array(reqArb, { maxLength: 60 }), (reqs) => {
        const a = new V2Store({ historySize: 20 });
        const b = new V2Store({ historySize: 20 });
        const seenA: V2Event[] = [];
        const seenB: V2Event[] = [];
        a.watch("/", { recursive: true, stream: true }, collect(seenA));
        b.watch("/", { recursive: true, stream: true }, collect(seenB));
        for (const r of reqs) {
          const viaCodec = decodeRequest(encodeRequest(r));
          expect(encodeRequest(viaCodec)).toEqual(encodeRequest(r));
          expect(b.apply(viaCodec)).toEqual(a.apply(r));
        }
        expect(b.snapshot()).toBe(a.snapshot());
        expect(seenB).toEqual(seenA);
        const c = new V2Store({ historySize: 20 });
        c.restore(a.snapshot());
        expect(c.snapshot()).toBe(a.snapshot());
      }),
      { numRuns: 300 },
    );
  });

  it("the codec rejects garbage", () => {
    expect(() => decodeRequest(new TextEncoder().encode("[99]"))).toThrow("unknown request kind");
    expect(() => decodeRequest(new Uint8Array([0xff]))).toThrow("not valid UTF-8 JSON");
    expect(() => decodeRequest(new TextEncoder().encode('[1,5,"",0,"",0,null,1]'))).toThrow(
      "expected a string",
    );
  });

  it("formats RFC 3339 with trimmed fractional digits", () => {
    expect(formatRfc3339Nano(Date.UTC(2026, 10, 21, 22, 54, 21) * 1000 + 651989)).toBe(
      "2026-11-21T22:54:21.651989Z",
    );
    expect(formatRfc3339Nano(Date.UTC(2026, 0, 1) * 1000 + 500_000)).toBe("2026-01-01T00:00:00.5Z");
    expect(formatRfc3339Nano(Date.UTC(2026, 0, 1) * 1000)).toBe("2026-01-01T00:00:00Z");
  });
});
