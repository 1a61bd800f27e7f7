/**
 * Spec §8: one case per error code that etcd 3.4.23 emits on a single member
 * without auth — exact status, message, cause, index and headers. (110 needs
 * v2 auth and 300 a lost quorum; neither is reachable here. 401 has its
 * own file, watch-history.test.ts.)
 */
import { conformance } from "./harness/case.js";

conformance("§8 errors", "er", (kase) => {
  kase("100 Key not found (404)", async (c) => {
    await c.put(c.keys("/d"), "dir=true");
    c.err(await c.get(c.keys("/d/k")), 404, 100, "Key not found", c.k("/d/k"), c.i(1));
  });

  kase("causes are Go-escaped like values (<, >, &)", async (c) => {
    await c.put(c.keys("/d"), "dir=true");
    c.err(await c.get(c.keys("/d/%3Cx%3E%26")), 404, 100, "Key not found", c.k("/d/<x>&"), c.i(1));
    await c.put(c.keys("/v"), `value=${encodeURIComponent("<a>")}`);
    c.err(
      await c.put(c.keys("/v?prevValue=%26"), "value=1"),
      412,
      101,
      "Compare failed",
      "[& != <a>]",
      c.i(2),
    );
  });

  kase("101 Compare failed (412)", async (c) => {
    await c.put(c.keys("/k"), "value=a");
    c.err(
      await c.put(c.keys("/k?prevValue=b"), "value=c"),
      412,
      101,
      "Compare failed",
      "[b != a]",
      c.i(1),
    );
  });

  kase("102 Not a file (403)", async (c) => {
    await c.put(c.keys("/d"), "dir=true");
    c.err(await c.del(c.keys("/d")), 403, 102, "Not a file", c.k("/d"), c.i(1));
  });

  kase("104 Not a directory (400)", async (c) => {
    await c.put(c.keys("/f"), "value=1");
    c.err(await c.put(c.keys("/f/g"), "value=1"), 400, 104, "Not a directory", c.k("/f"), c.i(1));
  });

  kase("105 Key already exists (412)", async (c) => {
    await c.put(c.keys("/k"), "value=1");
    c.err(await c.post(c.keys("/k"), "value=1"), 400, 104, "Not a directory", c.k("/k"), c.i(1));
    c.err(
      await c.put(c.keys("/k?prevExist=false"), "value=1"),
      412,
      105,
      "Key already exists",
      c.k("/k"),
      c.i(1),
    );
  });

  kase("107 Root is read only (400)", async (c) => {
    c.err(await c.put("/v2/keys/", "dir=true"), 400, 107, "Root is read only", "/", c.base);
    c.err(
      await c.put("/v2/keys/?prevValue=x", "value=1"),
      400,
      107,
      "Root is read only",
      "/",
      c.base,
    );
    // compareAndDelete on the root is 102 without a cause (the root's key is
    // empty once the internal prefix is stripped) — not 107 as spec §5.5 implies.
    c.err(await c.del("/v2/keys/?prevValue=x"), 403, 102, "Not a file", undefined, c.base);
    c.err(await c.del("/v2/keys/?prevIndex=3"), 403, 102, "Not a file", undefined, c.base);
  });

  kase("108 Directory not empty (403)", async (c) => {
    await c.put(c.keys("/d/x"), "value=1");
    c.err(await c.del(c.keys("/d?dir=true")), 403, 108, "Directory not empty", c.k("/d"), c.i(1));
  });

  kase("201 PrevValue is Required in POST form (400)", async (c) => {
    c.err(
      await c.put(c.keys("/k"), "prevValue="),
      400,
      201,
      "PrevValue is Required in POST form",
      '"prevValue" cannot be empty',
      0,
    );
  });

  kase("202 The given TTL in POST form is not a number (400)", async (c) => {
    c.err(
      await c.put(c.keys("/k"), "ttl=z"),
      400,
      202,
      "The given TTL in POST form is not a number",
      'invalid value for "ttl"',
      0,
    );
  });

  kase("203 The given index in POST form is not a number (400)", async (c) => {
    c.err(
      await c.put(c.keys("/k"), "prevIndex=z"),
      400,
      203,
      "The given index in POST form is not a number",
      'invalid value for "prevIndex"',
      0,
    );
  });

  kase("209 Invalid field (400)", async (c) => {
    c.err(
      await c.get(c.keys("/k?sorted=z")),
      400,
      209,
      "Invalid field",
      'invalid value for "sorted"',
      0,
    );
  });

  kase("210 Invalid POST form (400)", async (c) => {
    c.err(
      await c.post(c.keys("/k"), "value=%"),
      400,
      210,
      "Invalid POST form",
      'invalid URL escape "%"',
      0,
    );
  });

  kase("211 Value provided on refresh (400)", async (c) => {
    c.err(
      await c.put(c.keys("/k"), "refresh=true&ttl=1&value=v"),
      400,
      211,
      "Value provided on refresh",
      "A value was provided on a refresh",
      0,
    );
  });

  kase("212 A TTL must be provided on refresh (400)", async (c) => {
    c.err(
      await c.put(c.keys("/k"), "refresh=true"),
      400,
      212,
      "A TTL must be provided on refresh",
      "No TTL value set",
      0,
    );
  });
});
