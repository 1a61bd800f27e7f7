/**
 * Spec §6: TTLs (expiration/ttl fields, expiry as an index-consuming event,
 * directory TTLs), refresh=true and its action rules, and hidden keys.
 * TTLs are 1–5 s; etcd sweeps every 500 ms, so waits allow TTL + ~2 s or more.
 */
import { type CaseContext, conformance, lateTtl, RFC3339_NANO } from "./harness/case.js";
import { send } from "./harness/http.js";
import { dir, event, file } from "./harness/v2.js";

/** Reads the raw expiration of a case key (unrecorded) as epoch ms. */
async function expirationOf(c: CaseContext, rel: string): Promise<number> {
  const res = await send(c.target.url, { method: "GET", path: c.keys(rel) });
  const m = /"expiration":"([^"]+)"/.exec(res.body.toString("utf8"));
  if (m === null) {
    c.fail(`${rel}: no expiration in ${res.body.toString("utf8")}`);
    return Number.NaN;
  }
  if (!RFC3339_NANO.test(m[1]!)) c.fail(`${rel}: expiration ${m[1]} is not RFC 3339 nano UTC`);
  return Date.parse(m[1]!);
}

conformance("§6 TTL, refresh, hidden keys", "th", (kase) => {
  kase("ttl=N: expiration ≈ now + N s and ttl = N", async (c) => {
    const before = Date.now();
    c.ok(
      await c.put(c.keys("/k"), "value=v&ttl=100"),
      201,
      event("set", file(c.k("/k"), "v", c.i(1), c.i(1), { ttl: 100 })),
      c.i(1),
    );
    c.ok(
      await c.get(c.keys("/k")),
      200,
      event("get", file(c.k("/k"), "v", c.i(1), c.i(1), { ttl: 100 })),
      c.i(1),
    );
    const exp = await expirationOf(c, "/k");
    if (!(exp >= before + 99_000 && exp <= Date.now() + 100_000 + 1_000)) {
      c.fail(`expiration ${new Date(exp).toISOString()} not ≈ now + 100 s`);
    }
    await c.del(c.keys("/k"));
  });

  kase("ttl counts down: ceiling of the remaining seconds", async (c) => {
    await c.put(c.keys("/k"), "value=v&ttl=9", { mask: lateTtl(9) });
    await new Promise((r) => setTimeout(r, 1_200));
    // ceil(9 - 1.2) = 8; less when the write or this read took long (a
    // starved host), never 9
    const res = await c.get(c.keys("/k"), { mask: lateTtl(8) });
    c.ok(res, 200, event("get", file(c.k("/k"), "v", c.i(1), c.i(1), { ttl: 8 })), c.i(1));
    await c.del(c.keys("/k"));
  });

  kase("ttl=0: an expiration without ttl, gone at the next sweep", async (c) => {
    c.ok(
      await c.put(c.keys("/k"), "value=v&ttl=0"),
      201,
      event("set", file(c.k("/k"), "v", c.i(1), c.i(1), { ttl: "none" })),
      c.i(1),
    );
    await c.waitGone("/k", 6_000);
    c.err(await c.get(c.keys("/k")), 404, 100, "Key not found", c.k("/k"), c.i(2));
  });

  kase("expiry: the key vanishes after its TTL and consumes one index", async (c) => {
    const t0 = Date.now();
    // Five seconds, so a starved host (seen: stalls of 2-3 s) still writes
    // /other before the expiry.
    await c.put(c.keys("/k"), "value=v&ttl=5", { mask: lateTtl(5) });
    await c.put(c.keys("/other"), "value=o");
    await c.waitGone("/k", 12_000);
    const took = Date.now() - t0;
    if (took < 4_900) c.fail(`expired after ${took} ms, before its 5 s TTL`);
    c.err(await c.get(c.keys("/k")), 404, 100, "Key not found", c.k("/k"), c.i(3));
    c.ok(
      await c.get(c.keys("/other")),
      200,
      event("get", file(c.k("/other"), "o", c.i(2))),
      c.i(3),
    );
  });

  kase("expiry: a directory with a TTL takes its subtree", async (c) => {
    // Five seconds, so a starved host still reads the tree before it goes.
    await c.put(c.keys("/d"), "dir=true&ttl=5", { mask: lateTtl(5) });
    await c.put(c.keys("/d/x/y"), "value=1");
    c.ok(
      await c.get(c.keys("/d?recursive=true"), { mask: lateTtl(5) }),
      200,
      event(
        "get",
        dir(c.k("/d"), c.i(1), c.i(1), {
          ttl: 5,
          nodes: [dir(c.k("/d/x"), c.i(2), c.i(2), { nodes: [file(c.k("/d/x/y"), "1", c.i(2))] })],
        }),
      ),
      c.i(2),
    );
    await c.waitGone("/d", 12_000);
    c.err(await c.get(c.keys("/d/x/y")), 404, 100, "Key not found", c.k("/d"), c.i(3));
  });

  kase("update with a new ttl on a directory; without ttl it becomes permanent", async (c) => {
    await c.put(c.keys("/d"), "dir=true&ttl=5", { mask: lateTtl(5) });
    c.ok(
      await c.put(c.keys("/d?prevExist=true"), "dir=true&ttl=100", { mask: lateTtl(5) }),
      200,
      event(
        "update",
        dir(c.k("/d"), c.i(2), c.i(1), { ttl: 100 }),
        dir(c.k("/d"), c.i(1), c.i(1), { ttl: 5 }),
      ),
      c.i(2),
    );
    c.ok(
      await c.put(c.keys("/d?prevExist=true&dir=true")),
      200,
      event("update", dir(c.k("/d"), c.i(3), c.i(1)), dir(c.k("/d"), c.i(1), c.i(1), { ttl: 100 })),
      c.i(3),
    );
    await new Promise((r) => setTimeout(r, 5_600));
    c.ok(await c.get(c.keys("/d")), 200, event("get", dir(c.k("/d"), c.i(1))), c.i(3));
  });

  kase("refresh=true: plain → set with a new createdIndex, value kept", async (c) => {
    await c.put(c.keys("/k"), "value=v&ttl=100");
    c.ok(
      await c.put(c.keys("/k?refresh=true"), "ttl=200"),
      200,
      event(
        "set",
        file(c.k("/k"), "v", c.i(2), c.i(2), { ttl: 200 }),
        file(c.k("/k"), "v", c.i(1), c.i(1), { ttl: 100 }),
      ),
      c.i(2),
    );
    c.ok(
      await c.put(c.keys("/k?refresh=true"), "ttl=300&value="),
      200,
      event(
        "set",
        file(c.k("/k"), "v", c.i(3), c.i(3), { ttl: 300 }),
        file(c.k("/k"), "v", c.i(2), c.i(2), { ttl: 200 }),
      ),
      c.i(3),
    );
    c.err(
      await c.put(c.keys("/missing?refresh=true"), "ttl=5"),
      404,
      100,
      "Key not found",
      c.k("/missing"),
      c.i(3),
    );
    await c.del(c.keys("/k"));
  });

  kase("refresh=true: with prevExist=true → update (createdIndex kept)", async (c) => {
    await c.put(c.keys("/k"), "value=v&ttl=100");
    c.ok(
      await c.put(c.keys("/k?refresh=true&prevExist=true"), "ttl=200"),
      200,
      event(
        "update",
        file(c.k("/k"), "v", c.i(2), c.i(1), { ttl: 200 }),
        file(c.k("/k"), "v", c.i(1), c.i(1), { ttl: 100 }),
      ),
      c.i(2),
    );
    await c.del(c.keys("/k"));
  });

  kase("refresh=true: with prevValue/prevIndex → compareAndSwap", async (c) => {
    await c.put(c.keys("/k"), "value=v&ttl=100");
    c.ok(
      await c.put(c.keys("/k?refresh=true&prevValue=v"), "ttl=200"),
      200,
      event(
        "compareAndSwap",
        file(c.k("/k"), "v", c.i(2), c.i(1), { ttl: 200 }),
        file(c.k("/k"), "v", c.i(1), c.i(1), { ttl: 100 }),
      ),
      c.i(2),
    );
    c.err(
      await c.put(c.keys("/k?refresh=true&prevValue=zz"), "ttl=200"),
      412,
      101,
      "Compare failed",
      "[zz != v]",
      c.i(2),
    );
    c.ok(
      await c.put(c.keys(`/k?refresh=true&prevIndex=${c.i(2)}`), "ttl=300"),
      200,
      event(
        "compareAndSwap",
        file(c.k("/k"), "v", c.i(3), c.i(1), { ttl: 300 }),
        file(c.k("/k"), "v", c.i(2), c.i(1), { ttl: 200 }),
      ),
      c.i(3),
    );
    await c.del(c.keys("/k"));
  });

  kase("refresh=true: with prevExist=false → create with an empty value", async (c) => {
    c.ok(
      await c.put(c.keys("/k?refresh=true&prevExist=false"), "ttl=100"),
      201,
      event("create", file(c.k("/k"), "", c.i(1), c.i(1), { ttl: 100 })),
      c.i(1),
    );
    await c.del(c.keys("/k"));
  });

  kase("refresh=true: on a directory needs prevExist=true", async (c) => {
    await c.put(c.keys("/d"), "dir=true&ttl=100");
    c.err(
      await c.put(c.keys("/d?refresh=true&dir=true"), "ttl=200"),
      403,
      102,
      "Not a file",
      c.k("/d"),
      c.i(1),
    );
    c.ok(
      await c.put(c.keys("/d?refresh=true&dir=true&prevExist=true"), "ttl=200"),
      200,
      event(
        "update",
        dir(c.k("/d"), c.i(2), c.i(1), { ttl: 200 }),
        dir(c.k("/d"), c.i(1), c.i(1), { ttl: 100 }),
      ),
      c.i(2),
    );
    await c.del(c.keys("/d?dir=true"));
  });

  kase("refresh keeps a key alive past its original TTL", async (c) => {
    await c.put(c.keys("/k"), "value=v&ttl=5", { mask: lateTtl(5) });
    await c.put(c.keys("/k?refresh=true"), "ttl=100");
    await new Promise((r) => setTimeout(r, 5_700));
    c.ok(
      await c.get(c.keys("/k")),
      200,
      event("get", file(c.k("/k"), "v", c.i(2), c.i(2), { ttl: 99 })),
      c.i(2),
    );
    await c.del(c.keys("/k"));
  });

  kase("hidden keys: never listed, readable and writable directly", async (c) => {
    await c.put(c.keys("/h/_secret"), "value=s");
    await c.put(c.keys("/h/pub"), "value=p");
    await c.put(c.keys("/h/_hdir/x"), "value=x");
    await c.put(c.keys("/h/sub/_deep"), "value=d");
    c.ok(
      await c.get(c.keys("/h?recursive=true&sorted=true")),
      200,
      event(
        "get",
        dir(c.k("/h"), c.i(1), c.i(1), {
          nodes: [file(c.k("/h/pub"), "p", c.i(2)), dir(c.k("/h/sub"), c.i(4))],
        }),
      ),
      c.i(4),
    );
    c.ok(
      await c.get(c.keys("/h?sorted=true")),
      200,
      event(
        "get",
        dir(c.k("/h"), c.i(1), c.i(1), {
          nodes: [file(c.k("/h/pub"), "p", c.i(2)), dir(c.k("/h/sub"), c.i(4))],
        }),
      ),
      c.i(4),
    );
    c.ok(
      await c.get(c.keys("/h/_secret")),
      200,
      event("get", file(c.k("/h/_secret"), "s", c.i(1))),
      c.i(4),
    );
    c.ok(
      await c.get(c.keys("/h/_hdir?recursive=true")),
      200,
      event(
        "get",
        dir(c.k("/h/_hdir"), c.i(3), c.i(3), { nodes: [file(c.k("/h/_hdir/x"), "x", c.i(3))] }),
      ),
      c.i(4),
    );
    c.ok(
      await c.put(c.keys("/h/_secret?prevValue=s"), "value=t"),
      200,
      event(
        "compareAndSwap",
        file(c.k("/h/_secret"), "t", c.i(5), c.i(1)),
        file(c.k("/h/_secret"), "s", c.i(1)),
      ),
      c.i(5),
    );
    c.ok(
      await c.del(c.keys("/h/_secret")),
      200,
      `{"action":"delete","node":{"key":"${c.k("/h/_secret")}","modifiedIndex":${c.i(6)},"createdIndex":${c.i(1)}},"prevNode":${file(c.k("/h/_secret"), "t", c.i(5), c.i(1))}}\n`,
      c.i(6),
    );
  });

  kase("hidden keys: a directory with only hidden children shows no nodes", async (c) => {
    await c.put(c.keys("/o/_only"), "value=1");
    c.ok(
      await c.get(c.keys("/o?recursive=true")),
      200,
      event("get", dir(c.k("/o"), c.i(1))),
      c.i(1),
    );
  });
});
