/**
 * Spec §4–5: every /v2/keys action — get, set, create (incl. POST in-order
 * keys), update, compareAndSwap, delete, compareAndDelete — with exact bodies,
 * statuses and headers, indexes relative to the index before each case.
 */
import { conformance } from "./harness/case.js";
import { dir, event, file, gone } from "./harness/v2.js";

conformance("§5 /v2/keys actions", "ka", (kase) => {
  // §5.1 get
  kase("get: a file", async (c) => {
    c.ok(
      await c.put(c.keys("/a"), "value=v"),
      201,
      event("set", file(c.k("/a"), "v", c.i(1))),
      c.i(1),
    );
    c.ok(await c.get(c.keys("/a")), 200, event("get", file(c.k("/a"), "v", c.i(1))), c.i(1));
  });

  kase("get: a directory lists one level; child dirs have no nodes", async (c) => {
    await c.put(c.keys("/d/x"), "value=1");
    await c.put(c.keys("/d/y/z"), "value=2");
    c.ok(
      await c.get(c.keys("/d?sorted=true")),
      200,
      event(
        "get",
        dir(c.k("/d"), c.i(1), c.i(1), {
          nodes: [file(c.k("/d/x"), "1", c.i(1)), dir(c.k("/d/y"), c.i(2))],
        }),
      ),
      c.i(2),
    );
  });

  kase("get: recursive=true&sorted=true lists the subtree sorted at every level", async (c) => {
    for (const k of ["/r/b/2", "/r/a", "/r/b/1", "/r/c"]) await c.put(c.keys(k), "value=x");
    const tree = dir(c.k("/r"), c.i(1), c.i(1), {
      nodes: [
        file(c.k("/r/a"), "x", c.i(2)),
        dir(c.k("/r/b"), c.i(1), c.i(1), {
          nodes: [file(c.k("/r/b/1"), "x", c.i(3)), file(c.k("/r/b/2"), "x", c.i(1))],
        }),
        file(c.k("/r/c"), "x", c.i(4)),
      ],
    });
    c.ok(await c.get(c.keys("/r?recursive=true&sorted=true")), 200, event("get", tree), c.i(4));
  });

  kase("get: recursive without sorted returns the same nodes (order unspecified)", async (c) => {
    for (const k of ["/u/b", "/u/a", "/u/c"]) await c.put(c.keys(k), "value=x");
    const res = await c.get(c.keys("/u?recursive=true"), {
      // Go map order is unspecified (spec §5.1): compare the set of children.
      mask: (b) => {
        const parsed = JSON.parse(b) as { node: { nodes?: { key: string }[] } };
        parsed.node.nodes?.sort((x, y) => (x.key < y.key ? -1 : 1));
        return JSON.stringify(parsed);
      },
    });
    c.eq(
      res.text,
      JSON.stringify(
        JSON.parse(
          event(
            "get",
            dir(c.k("/u"), c.i(1), c.i(1), {
              nodes: [
                file(c.k("/u/a"), "x", c.i(2)),
                file(c.k("/u/b"), "x", c.i(1)),
                file(c.k("/u/c"), "x", c.i(3)),
              ],
            }),
          ),
        ),
      ),
      "children",
    );
  });

  kase("get: an empty directory has no nodes, even recursive", async (c) => {
    await c.put(c.keys("/e"), "dir=true");
    c.ok(await c.get(c.keys("/e")), 200, event("get", dir(c.k("/e"), c.i(1))), c.i(1));
    c.ok(
      await c.get(c.keys("/e?recursive=true")),
      200,
      event("get", dir(c.k("/e"), c.i(1))),
      c.i(1),
    );
  });

  kase("get: missing key is 100; the cause is the first missing path component", async (c) => {
    // Spec §5.1 says "the full missing path"; etcd 3.4.23 names the first
    // component that does not exist.
    c.err(await c.get(c.keys("/no/such")), 404, 100, "Key not found", c.k(), c.base);
    await c.put(c.keys("/a"), "value=1");
    c.err(await c.get(c.keys("/no/such")), 404, 100, "Key not found", c.k("/no"), c.i(1));
    c.err(await c.get(c.keys("/such")), 404, 100, "Key not found", c.k("/such"), c.i(1));
  });

  kase("get: a path through a file is 104 with the file as cause", async (c) => {
    await c.put(c.keys("/f"), "value=1");
    c.err(await c.get(c.keys("/f/x")), 400, 104, "Not a directory", c.k("/f"), c.i(1));
  });

  kase("get: trailing slash and the root are cleaned (spec §3.1)", async (c) => {
    await c.put(c.keys("/t"), "value=1");
    c.ok(await c.get(c.keys("/t/")), 200, event("get", file(c.k("/t"), "1", c.i(1))), c.i(1));
    const root = await c.get("/v2/keys", { mask: () => "<root listing>" });
    c.check(root, { status: 200, headers: { "x-etcd-index": String(c.i(1)) } });
  });

  kase("HEAD: same status and headers as GET, no body (spec §4)", async (c) => {
    await c.put(c.keys("/h"), "value=hello");
    const get = await c.get(c.keys("/h"));
    const head = await c.head(c.keys("/h"));
    c.check(head, {
      status: 200,
      body: "",
      headers: {
        "content-type": "application/json",
        "content-length": String(get.body.length),
        "x-etcd-index": String(c.i(1)),
      },
    });
    const missing = await c.head(c.keys("/nope"));
    c.check(missing, { status: 404, body: "", headers: { "x-etcd-index": String(c.i(1)) } });
  });

  // §5.2 set
  kase("set: creates (201), then replaces with a new createdIndex (200 + prevNode)", async (c) => {
    c.ok(
      await c.put(c.keys("/foo"), "value=bar"),
      201,
      event("set", file(c.k("/foo"), "bar", c.i(1))),
      c.i(1),
    );
    c.ok(
      await c.put(c.keys("/foo"), "value=baz"),
      200,
      event("set", file(c.k("/foo"), "baz", c.i(2)), file(c.k("/foo"), "bar", c.i(1))),
      c.i(2),
    );
  });

  kase("set: creates missing parents with the write's index", async (c) => {
    c.ok(
      await c.put(c.keys("/p/q/r"), "value=1"),
      201,
      event("set", file(c.k("/p/q/r"), "1", c.i(1))),
      c.i(1),
    );
    c.ok(
      await c.get(c.keys("/p?recursive=true")),
      200,
      event(
        "get",
        dir(c.k("/p"), c.i(1), c.i(1), {
          nodes: [dir(c.k("/p/q"), c.i(1), c.i(1), { nodes: [file(c.k("/p/q/r"), "1", c.i(1))] })],
        }),
      ),
      c.i(1),
    );
  });

  kase("set: missing value stores an empty string", async (c) => {
    c.ok(await c.put(c.keys("/empty")), 201, event("set", file(c.k("/empty"), "", c.i(1))), c.i(1));
    c.ok(
      await c.put(c.keys("/empty2"), "ttl="),
      201,
      event("set", file(c.k("/empty2"), "", c.i(2))),
      c.i(2),
    );
  });

  kase("set: dir=true creates a directory and ignores value", async (c) => {
    c.ok(
      await c.put(c.keys("/d"), "dir=true&value=ignored"),
      201,
      event("set", dir(c.k("/d"), c.i(1))),
      c.i(1),
    );
  });

  kase("set: dir=true over a file replaces it; over a directory is 102", async (c) => {
    await c.put(c.keys("/x"), "value=1");
    c.ok(
      await c.put(c.keys("/x"), "dir=true"),
      200,
      event("set", dir(c.k("/x"), c.i(2)), file(c.k("/x"), "1", c.i(1))),
      c.i(2),
    );
    c.err(await c.put(c.keys("/x"), "dir=true"), 403, 102, "Not a file", c.k("/x"), c.i(2));
  });

  kase("set: a value on a directory is 102; under a file is 104; the root is 107", async (c) => {
    await c.put(c.keys("/d/f"), "value=1");
    c.err(await c.put(c.keys("/d"), "value=2"), 403, 102, "Not a file", c.k("/d"), c.i(1));
    c.err(
      await c.put(c.keys("/d/f/g"), "value=2"),
      400,
      104,
      "Not a directory",
      c.k("/d/f"),
      c.i(1),
    );
    c.err(await c.put("/v2/keys/", "value=2"), 400, 107, "Root is read only", "/", c.i(1));
    c.err(await c.put("/v2/keys", "value=2"), 400, 107, "Root is read only", "/", c.i(1));
  });

  kase("set: noValueOnSuccess=true answers only the action", async (c) => {
    c.ok(
      await c.put(c.keys("/n?noValueOnSuccess=true"), "value=1"),
      201,
      '{"action":"set"}\n',
      c.i(1),
    );
    c.ok(
      await c.put(c.keys("/n"), "value=2&noValueOnSuccess=true"),
      200,
      '{"action":"set"}\n',
      c.i(2),
    );
    c.ok(
      await c.put(c.keys("/n?prevExist=true&noValueOnSuccess=true"), "value=3"),
      200,
      '{"action":"update"}\n',
      c.i(3),
    );
    c.ok(
      await c.put(c.keys("/n?prevValue=3&noValueOnSuccess=true"), "value=4"),
      200,
      '{"action":"compareAndSwap"}\n',
      c.i(4),
    );
    c.ok(
      await c.put(c.keys("/m?prevExist=false&noValueOnSuccess=true"), "value=1"),
      201,
      '{"action":"create"}\n',
      c.i(5),
    );
    c.ok(
      await c.del(c.keys("/m?noValueOnSuccess=true")),
      200,
      event("delete", gone(c.k("/m"), c.i(6), c.i(5)), file(c.k("/m"), "1", c.i(5))),
      c.i(6),
    );
  });

  // §5.3 create
  kase("create: prevExist=false creates (201), then 105", async (c) => {
    c.ok(
      await c.put(c.keys("/k1?prevExist=false"), "value=v1"),
      201,
      event("create", file(c.k("/k1"), "v1", c.i(1))),
      c.i(1),
    );
    c.err(
      await c.put(c.keys("/k1?prevExist=false"), "value=v2"),
      412,
      105,
      "Key already exists",
      c.k("/k1"),
      c.i(1),
    );
  });

  kase("create: prevExist=false ignores prevValue and prevIndex", async (c) => {
    c.ok(
      await c.put(c.keys("/k?prevExist=false&prevValue=zz&prevIndex=99"), "value=v"),
      201,
      event("create", file(c.k("/k"), "v", c.i(1))),
      c.i(1),
    );
  });

  kase(
    "create: prevExist=false with dir=true creates a directory; existing dir is 105",
    async (c) => {
      c.ok(
        await c.put(c.keys("/d?prevExist=false"), "dir=true"),
        201,
        event("create", dir(c.k("/d"), c.i(1))),
        c.i(1),
      );
      c.err(
        await c.put(c.keys("/d?prevExist=false"), "dir=true"),
        412,
        105,
        "Key already exists",
        c.k("/d"),
        c.i(1),
      );
    },
  );

  kase("POST: in-order keys named by the 20-digit zero-padded index", async (c) => {
    const name = (n: number) => `/q/${String(n).padStart(20, "0")}`;
    c.ok(
      await c.post(c.keys("/q"), "value=job1"),
      201,
      event("create", file(c.k(name(c.i(1))), "job1", c.i(1))),
      c.i(1),
    );
    c.ok(
      await c.post(c.keys("/q"), "value=job2"),
      201,
      event("create", file(c.k(name(c.i(2))), "job2", c.i(2))),
      c.i(2),
    );
    c.ok(
      await c.get(c.keys("/q?sorted=true")),
      200,
      event(
        "get",
        dir(c.k("/q"), c.i(1), c.i(1), {
          nodes: [file(c.k(name(c.i(1))), "job1", c.i(1)), file(c.k(name(c.i(2))), "job2", c.i(2))],
        }),
      ),
      c.i(2),
    );
  });

  kase("POST: dir=true creates an in-order directory; under a file is 104", async (c) => {
    const name = (n: number) => `/q/${String(n).padStart(20, "0")}`;
    c.ok(
      await c.post(c.keys("/q"), "dir=true"),
      201,
      event("create", dir(c.k(name(c.i(1))), c.i(1))),
      c.i(1),
    );
    await c.put(c.keys("/f"), "value=1");
    c.err(await c.post(c.keys("/f"), "value=2"), 400, 104, "Not a directory", c.k("/f"), c.i(2));
  });

  kase("POST: to the root creates /<index>", async (c) => {
    const key = `/${String(c.i(1)).padStart(20, "0")}`;
    c.ok(
      await c.post("/v2/keys/", "value=r"),
      201,
      event("create", file(key, "r", c.i(1))),
      c.i(1),
    );
    c.ok(
      await c.del(`/v2/keys${key}`),
      200,
      event("delete", gone(key, c.i(2), c.i(1)), file(key, "r", c.i(1))),
      c.i(2),
    );
  });

  kase("POST: value in the query string is used", async (c) => {
    const key = c.k(`/q/${String(c.i(1)).padStart(20, "0")}`);
    c.ok(
      await c.post(c.keys("/q?value=fromquery")),
      201,
      event("create", file(key, "fromquery", c.i(1))),
      c.i(1),
    );
  });

  kase("POST: ttl applies to the in-order key", async (c) => {
    const key = c.k(`/q/${String(c.i(1)).padStart(20, "0")}`);
    c.ok(
      await c.post(c.keys("/q"), "value=j&ttl=100"),
      201,
      event("create", file(key, "j", c.i(1), c.i(1), { ttl: 100 })),
      c.i(1),
    );
    c.ok(
      await c.post(c.keys("/q"), "dir=true&ttl=100"),
      201,
      event(
        "create",
        dir(c.k(`/q/${String(c.i(2)).padStart(20, "0")}`), c.i(2), c.i(2), { ttl: 100 }),
      ),
      c.i(2),
    );
    await c.del(c.keys("/q?recursive=true"));
  });

  kase("create: under a file is 104", async (c) => {
    await c.put(c.keys("/f"), "value=1");
    c.err(
      await c.put(c.keys("/f/g?prevExist=false"), "value=1"),
      400,
      104,
      "Not a directory",
      c.k("/f"),
      c.i(1),
    );
  });

  // §5.4 update
  kase("update: missing is 100; existing keeps createdIndex and shows prevNode", async (c) => {
    c.err(
      await c.put(c.keys("/k?prevExist=true"), "value=v"),
      404,
      100,
      "Key not found",
      c.k(),
      c.base,
    );
    await c.put(c.keys("/k"), "value=v1");
    c.ok(
      await c.put(c.keys("/k?prevExist=true"), "value=v3"),
      200,
      event("update", file(c.k("/k"), "v3", c.i(2), c.i(1)), file(c.k("/k"), "v1", c.i(1))),
      c.i(2),
    );
  });

  kase("update: a missing ttl removes an existing TTL", async (c) => {
    c.ok(
      await c.put(c.keys("/k"), "value=v&ttl=100"),
      201,
      event("set", file(c.k("/k"), "v", c.i(1), c.i(1), { ttl: 100 })),
      c.i(1),
    );
    c.ok(
      await c.put(c.keys("/k?prevExist=true"), "value=w"),
      200,
      event(
        "update",
        file(c.k("/k"), "w", c.i(2), c.i(1)),
        file(c.k("/k"), "v", c.i(1), c.i(1), { ttl: 100 }),
      ),
      c.i(2),
    );
    c.ok(
      await c.get(c.keys("/k")),
      200,
      event("get", file(c.k("/k"), "w", c.i(2), c.i(1))),
      c.i(2),
    );
  });

  kase("update: a directory's TTL only; its stored modifiedIndex stays (quirk)", async (c) => {
    await c.put(c.keys("/d"), "dir=true");
    c.err(
      await c.put(c.keys("/d?prevExist=true"), "value=x"),
      403,
      102,
      "Not a file",
      c.k("/d"),
      c.i(1),
    );
    c.ok(
      await c.put(c.keys("/d?prevExist=true"), "dir=true&ttl=100"),
      200,
      event("update", dir(c.k("/d"), c.i(2), c.i(1), { ttl: 100 }), dir(c.k("/d"), c.i(1))),
      c.i(2),
    );
    c.ok(
      await c.get(c.keys("/d")),
      200,
      event("get", dir(c.k("/d"), c.i(1), c.i(1), { ttl: 100 })),
      c.i(2),
    );
    c.ok(
      await c.put(c.keys("/d?prevExist=true&dir=true")),
      200,
      event("update", dir(c.k("/d"), c.i(3), c.i(1)), dir(c.k("/d"), c.i(1), c.i(1), { ttl: 100 })),
      c.i(3),
    );
    c.ok(await c.get(c.keys("/d")), 200, event("get", dir(c.k("/d"), c.i(1))), c.i(3));
  });

  kase("update: the root is 107", async (c) => {
    c.err(
      await c.put("/v2/keys/?prevExist=true", "value=x"),
      400,
      107,
      "Root is read only",
      "/",
      c.base,
    );
  });

  // §5.5 compareAndSwap
  kase("compareAndSwap: prevValue", async (c) => {
    await c.put(c.keys("/k"), "value=v1");
    c.ok(
      await c.put(c.keys("/k?prevValue=v1"), "value=v2"),
      200,
      event("compareAndSwap", file(c.k("/k"), "v2", c.i(2), c.i(1)), file(c.k("/k"), "v1", c.i(1))),
      c.i(2),
    );
    c.err(
      await c.put(c.keys("/k?prevValue=v1"), "value=v3"),
      412,
      101,
      "Compare failed",
      "[v1 != v2]",
      c.i(2),
    );
  });

  kase("compareAndSwap: prevIndex", async (c) => {
    await c.put(c.keys("/k"), "value=v1");
    c.ok(
      await c.put(c.keys(`/k?prevIndex=${c.i(1)}`), "value=v2"),
      200,
      event("compareAndSwap", file(c.k("/k"), "v2", c.i(2), c.i(1)), file(c.k("/k"), "v1", c.i(1))),
      c.i(2),
    );
    c.err(
      await c.put(c.keys(`/k?prevIndex=${c.i(1)}`), "value=v3"),
      412,
      101,
      "Compare failed",
      `[${c.i(1)} != ${c.i(2)}]`,
      c.i(2),
    );
  });

  kase("compareAndSwap: both conditions; failure names both", async (c) => {
    await c.put(c.keys("/k"), "value=v4");
    c.err(
      await c.put(c.keys("/k?prevIndex=1&prevValue=zz"), "value=v5"),
      412,
      101,
      "Compare failed",
      `[zz != v4] [1 != ${c.i(1)}]`,
      c.i(1),
    );
    c.err(
      await c.put(c.keys("/k?prevIndex=1&prevValue=v4"), "value=v5"),
      412,
      101,
      "Compare failed",
      `[1 != ${c.i(1)}]`,
      c.i(1),
    );
    c.ok(
      await c.put(c.keys(`/k?prevIndex=${c.i(1)}&prevValue=v4`), "value=v5"),
      200,
      event("compareAndSwap", file(c.k("/k"), "v5", c.i(2), c.i(1)), file(c.k("/k"), "v4", c.i(1))),
      c.i(2),
    );
  });

  kase("compareAndSwap: prevExist=true with prevValue is a CAS; the TTL is cleared", async (c) => {
    await c.put(c.keys("/k"), "value=a&ttl=100");
    c.ok(
      await c.put(c.keys("/k?prevExist=true&prevValue=a"), "value=b"),
      200,
      event(
        "compareAndSwap",
        file(c.k("/k"), "b", c.i(2), c.i(1)),
        file(c.k("/k"), "a", c.i(1), c.i(1), { ttl: 100 }),
      ),
      c.i(2),
    );
  });

  kase("compareAndSwap: missing is 100, directory 102, root 107", async (c) => {
    c.err(
      await c.put(c.keys("/k?prevValue=a"), "value=b"),
      404,
      100,
      "Key not found",
      c.k(),
      c.base,
    );
    await c.put(c.keys("/d"), "dir=true");
    c.err(
      await c.put(c.keys("/k?prevValue=a"), "value=b"),
      404,
      100,
      "Key not found",
      c.k("/k"),
      c.i(1),
    );
    c.err(
      await c.put(c.keys("/d?prevValue=a"), "value=b"),
      403,
      102,
      "Not a file",
      c.k("/d"),
      c.i(1),
    );
    c.err(
      await c.put(c.keys("/d?prevIndex=1"), "value=b"),
      403,
      102,
      "Not a file",
      c.k("/d"),
      c.i(1),
    );
    c.err(
      await c.put("/v2/keys/?prevValue=a", "value=b"),
      400,
      107,
      "Root is read only",
      "/",
      c.i(1),
    );
  });

  kase("compareAndSwap: prevIndex=0 means no condition (plain set)", async (c) => {
    await c.put(c.keys("/k"), "value=a");
    c.ok(
      await c.put(c.keys("/k?prevIndex=0"), "value=b"),
      200,
      event("set", file(c.k("/k"), "b", c.i(2)), file(c.k("/k"), "a", c.i(1))),
      c.i(2),
    );
  });

  // §5.6 delete
  kase("delete: a file (also with dir=true); the node has no value", async (c) => {
    await c.put(c.keys("/a"), "value=1");
    await c.put(c.keys("/b"), "value=2");
    c.ok(
      await c.del(c.keys("/a")),
      200,
      event("delete", gone(c.k("/a"), c.i(3), c.i(1)), file(c.k("/a"), "1", c.i(1))),
      c.i(3),
    );
    c.ok(
      await c.del(c.keys("/b?dir=true")),
      200,
      event("delete", gone(c.k("/b"), c.i(4), c.i(2)), file(c.k("/b"), "2", c.i(2))),
      c.i(4),
    );
  });

  kase("delete: directories need dir or recursive; 108 when not empty", async (c) => {
    await c.put(c.keys("/d/x"), "value=1");
    await c.put(c.keys("/e"), "dir=true");
    c.err(await c.del(c.keys("/d")), 403, 102, "Not a file", c.k("/d"), c.i(2));
    c.err(await c.del(c.keys("/d?dir=true")), 403, 108, "Directory not empty", c.k("/d"), c.i(2));
    c.ok(
      await c.del(c.keys("/e?dir=true")),
      200,
      event("delete", gone(c.k("/e"), c.i(3), c.i(2), true), dir(c.k("/e"), c.i(2))),
      c.i(3),
    );
    c.ok(
      await c.del(c.keys("/d?recursive=true")),
      200,
      event("delete", gone(c.k("/d"), c.i(4), c.i(1), true), dir(c.k("/d"), c.i(1))),
      c.i(4),
    );
    c.err(await c.get(c.keys("/d/x")), 404, 100, "Key not found", c.k("/d"), c.i(4));
  });

  kase("delete: missing is 100, the root 107", async (c) => {
    c.err(await c.del(c.keys("/nope")), 404, 100, "Key not found", c.k(), c.base);
    c.err(await c.del("/v2/keys/?recursive=true"), 400, 107, "Root is read only", "/", c.base);
    c.err(await c.del("/v2/keys/?dir=true"), 400, 107, "Root is read only", "/", c.base);
  });

  kase("delete: a body is ignored (no conditions from it)", async (c) => {
    await c.put(c.keys("/k"), "value=v");
    c.ok(
      await c.del(c.keys("/k"), { form: "prevValue=zzz" }),
      200,
      event("delete", gone(c.k("/k"), c.i(2), c.i(1)), file(c.k("/k"), "v", c.i(1))),
      c.i(2),
    );
  });

  kase("delete: of a key with a TTL shows the expiration in prevNode", async (c) => {
    await c.put(c.keys("/k"), "value=v&ttl=100");
    c.ok(
      await c.del(c.keys("/k")),
      200,
      event(
        "delete",
        gone(c.k("/k"), c.i(2), c.i(1)),
        file(c.k("/k"), "v", c.i(1), c.i(1), { ttl: 100 }),
      ),
      c.i(2),
    );
  });

  // §5.7 compareAndDelete
  kase("compareAndDelete: prevValue and prevIndex", async (c) => {
    await c.put(c.keys("/a"), "value=a");
    await c.put(c.keys("/b"), "value=b");
    c.err(await c.del(c.keys("/a?prevValue=x")), 412, 101, "Compare failed", "[x != a]", c.i(2));
    c.ok(
      await c.del(c.keys("/a?prevValue=a")),
      200,
      event("compareAndDelete", gone(c.k("/a"), c.i(3), c.i(1)), file(c.k("/a"), "a", c.i(1))),
      c.i(3),
    );
    c.err(
      await c.del(c.keys("/b?prevIndex=1")),
      412,
      101,
      "Compare failed",
      `[1 != ${c.i(2)}]`,
      c.i(3),
    );
    c.err(
      await c.del(c.keys("/b?prevIndex=1&prevValue=x")),
      412,
      101,
      "Compare failed",
      `[x != b] [1 != ${c.i(2)}]`,
      c.i(3),
    );
    c.ok(
      await c.del(c.keys(`/b?prevIndex=${c.i(2)}&prevValue=b`)),
      200,
      event("compareAndDelete", gone(c.k("/b"), c.i(4), c.i(2)), file(c.k("/b"), "b", c.i(2))),
      c.i(4),
    );
  });

  kase("compareAndDelete: missing 100; a directory is 102 even with recursive", async (c) => {
    c.err(await c.del(c.keys("/a?prevValue=x")), 404, 100, "Key not found", c.k(), c.base);
    await c.put(c.keys("/d/x"), "value=1");
    c.err(
      await c.del(c.keys("/d?prevValue=x&recursive=true")),
      403,
      102,
      "Not a file",
      c.k("/d"),
      c.i(1),
    );
    c.err(
      await c.del(c.keys("/d?prevIndex=1&dir=true")),
      403,
      102,
      "Not a file",
      c.k("/d"),
      c.i(1),
    );
  });

  kase("sorted=true is byte order (upper case, lower case, _, non-ASCII)", async (c) => {
    for (const k of ["b", "B", "a", "%C3%A9", "Z", "1", "-"])
      await c.put(c.keys(`/s/${k}`), "value=x");
    const keys = ["-", "1", "B", "Z", "a", "b", "é"];
    const order = ["b", "B", "a", "é", "Z", "1", "-"];
    c.ok(
      await c.get(c.keys("/s?sorted=true")),
      200,
      event(
        "get",
        dir(c.k("/s"), c.i(1), c.i(1), {
          nodes: keys.map((k) => file(c.k(`/s/${k}`), "x", c.i(order.indexOf(k) + 1))),
        }),
      ),
      c.i(7),
    );
  });

  kase("quirks: update with dir=true on a file just updates the file", async (c) => {
    await c.put(c.keys("/f"), "value=1");
    c.ok(
      await c.put(c.keys("/f?prevExist=true&dir=true")),
      200,
      event("update", file(c.k("/f"), "", c.i(2), c.i(1)), file(c.k("/f"), "1", c.i(1))),
      c.i(2),
    );
    c.ok(
      await c.put(c.keys("/f?prevExist=true"), "dir=true&value=2"),
      200,
      event("update", file(c.k("/f"), "2", c.i(3), c.i(1)), file(c.k("/f"), "", c.i(2), c.i(1))),
      c.i(3),
    );
  });

  kase("quirks: recursive get and recursive delete of a file", async (c) => {
    await c.put(c.keys("/f"), "value=1");
    c.ok(
      await c.get(c.keys("/f?recursive=true&sorted=true")),
      200,
      event("get", file(c.k("/f"), "1", c.i(1))),
      c.i(1),
    );
    c.ok(
      await c.del(c.keys("/f?recursive=true")),
      200,
      event("delete", gone(c.k("/f"), c.i(2), c.i(1)), file(c.k("/f"), "1", c.i(1))),
      c.i(2),
    );
  });

  kase("quirks: update of a directory with an empty value or dir=false", async (c) => {
    await c.put(c.keys("/d"), "dir=true");
    c.ok(
      await c.put(c.keys("/d?prevExist=true"), "value="),
      200,
      event("update", dir(c.k("/d"), c.i(2), c.i(1)), dir(c.k("/d"), c.i(1))),
      c.i(2),
    );
    c.ok(
      await c.put(c.keys("/d?prevExist=true&dir=false")),
      200,
      event("update", dir(c.k("/d"), c.i(3), c.i(1)), dir(c.k("/d"), c.i(1))),
      c.i(3),
    );
  });

  kase("concurrent POSTs get distinct, increasing in-order names", async (c) => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, n) =>
        c.post(c.keys("/q"), `value=${n}`, { unrecorded: true }),
      ),
    );
    c.eq(
      results.map((r) => r.status),
      results.map(() => 201),
      "statuses",
    );
    const listing = await c.get(c.keys("/q?sorted=true"), { unrecorded: true });
    const names = (
      JSON.parse(listing.text) as { node: { nodes: { key: string; createdIndex: number }[] } }
    ).node.nodes;
    c.eq(
      names.map((n) => n.key),
      Array.from({ length: 20 }, (_, n) => c.k(`/q/${String(c.i(n + 1)).padStart(20, "0")}`)),
      "names",
    );
    c.eq(
      names.every((n) => n.key.endsWith(String(n.createdIndex).padStart(20, "0"))),
      true,
      "each name is its createdIndex",
    );
  });

  kase("quorum=true get answers like a plain get", async (c) => {
    await c.put(c.keys("/a"), "value=1");
    c.ok(
      await c.get(c.keys("/a?quorum=true")),
      200,
      event("get", file(c.k("/a"), "1", c.i(1))),
      c.i(1),
    );
    c.err(await c.get(c.keys("/zz?quorum=true")), 404, 100, "Key not found", c.k("/zz"), c.i(1));
  });
});
