/**
 * Spec §3: /v2/keys request parsing — key paths, query and form parameters,
 * every parse error (code, cause, index 0), the cross-field checks and their
 * order, and which bodies are read at all. A rejected request changes nothing.
 */
import { conformance } from "./harness/case.js";
import { event, file } from "./harness/v2.js";

const BOOLS_TRUE = ["1", "t", "T", "TRUE", "true", "True"];
const BOOLS_FALSE = ["0", "f", "F", "FALSE", "false", "False"];

conformance("§3 /v2/keys request parsing", "kp", (kase) => {
  kase("ttl: not a number, negative, fractional, signed, overflowing → 202", async (c) => {
    for (const ttl of ["abc", "-1", "1.5", "+5", "1e3", "99999999999999999999", " 5"]) {
      c.err(
        await c.put(c.keys("/k"), `value=v&ttl=${encodeURIComponent(ttl)}`),
        400,
        202,
        "The given TTL in POST form is not a number",
        'invalid value for "ttl"',
        0,
      );
    }
    c.err(
      await c.put(c.keys("/k?ttl=x"), "value=v"),
      400,
      202,
      "The given TTL in POST form is not a number",
      'invalid value for "ttl"',
      0,
    );
    c.eq(await c.index(), c.base, "index after rejected requests");
  });

  kase("ttl: empty means no TTL; leading zeros are decimal", async (c) => {
    c.ok(
      await c.put(c.keys("/a"), "value=v&ttl="),
      201,
      event("set", file(c.k("/a"), "v", c.i(1))),
      c.i(1),
    );
    c.ok(
      await c.put(c.keys("/b"), "value=v&ttl=0100"),
      201,
      event("set", file(c.k("/b"), "v", c.i(2), c.i(2), { ttl: 100 })),
      c.i(2),
    );
    await c.del(c.keys("/b"));
  });

  kase("prevIndex: not a number, negative, overflowing → 203", async (c) => {
    // an empty prevIndex is an error too (unlike an empty ttl)
    for (const v of ["abc", "-1", "1.0", "18446744073709551616", ""]) {
      const res = await c.put(c.keys(`/k?prevIndex=${encodeURIComponent(v)}`), "value=v");
      c.err(
        res,
        400,
        203,
        "The given index in POST form is not a number",
        'invalid value for "prevIndex"',
        0,
      );
    }
    c.err(
      await c.del(c.keys("/k?prevIndex=x")),
      400,
      203,
      "The given index in POST form is not a number",
      'invalid value for "prevIndex"',
      0,
    );
  });

  kase("waitIndex: not a number → 203 (GET and other methods)", async (c) => {
    for (const v of ["abc", "-5", "0x10", ""]) {
      c.err(
        await c.get(c.keys(`/k?wait=true&waitIndex=${v}`)),
        400,
        203,
        "The given index in POST form is not a number",
        'invalid value for "waitIndex"',
        0,
      );
    }
    c.err(
      await c.get(c.keys("/k?waitIndex=abc")),
      400,
      203,
      "The given index in POST form is not a number",
      'invalid value for "waitIndex"',
      0,
    );
  });

  kase("booleans: every bool parameter rejects non-Go values with 209", async (c) => {
    const quoted = ["recursive", "sorted", "wait", "dir", "quorum", "stream", "noValueOnSuccess"];
    for (const name of quoted) {
      for (const bad of ["yes", "2", "tRUE", "on"]) {
        c.err(
          await c.get(c.keys(`/k?${name}=${bad}`)),
          400,
          209,
          "Invalid field",
          `invalid value for "${name}"`,
          0,
        );
      }
    }
    c.err(
      await c.put(c.keys("/k?prevExist=yes"), "value=v"),
      400,
      209,
      "Invalid field",
      "invalid value for prevExist",
      0,
    );
    c.err(
      await c.put(c.keys("/k?refresh=yes"), "ttl=5"),
      400,
      209,
      "Invalid field",
      "invalid value for refresh",
      0,
    );
    c.eq(await c.index(), c.base, "index after rejected requests");
  });

  kase("booleans: an empty value", async (c) => {
    for (const name of ["recursive", "sorted", "dir", "quorum", "stream", "noValueOnSuccess"]) {
      c.err(
        await c.get(c.keys(`/k?${name}=`)),
        400,
        209,
        "Invalid field",
        `invalid value for "${name}"`,
        0,
      );
    }
  });

  kase("booleans: Go's spellings of true and false (dir=...)", async (c) => {
    let n = 0;
    for (const t of BOOLS_TRUE) {
      n++;
      const res = await c.put(c.keys(`/t${n}?dir=${t}`));
      c.check(res, {
        status: 201,
        body: `{"action":"set","node":{"key":"${c.k(`/t${n}`)}","dir":true,"modifiedIndex":${c.i(n)},"createdIndex":${c.i(n)}}}\n`,
      });
    }
    for (const f of BOOLS_FALSE) {
      n++;
      c.ok(
        await c.put(c.keys(`/t${n}?dir=${f}`), "value=x"),
        201,
        event("set", file(c.k(`/t${n}`), "x", c.i(n))),
        c.i(n),
      );
    }
  });

  kase("wait=true on a method other than GET → 209", async (c) => {
    c.check(await c.head(c.keys("/k?wait=true")), {
      status: 400,
      body: "",
      headers: { "content-type": "application/json", "x-etcd-index": "0" },
    });
    for (const method of ["PUT", "POST", "DELETE"]) {
      c.err(
        await c.req(method, c.keys("/k?wait=true"), { form: "value=v" }),
        400,
        209,
        "Invalid field",
        '"wait" can only be used with GET requests',
        0,
      );
    }
    c.eq(await c.index(), c.base, "index after rejected requests");
  });

  kase("prevValue present but empty → 201", async (c) => {
    c.err(
      await c.put(c.keys("/k?prevValue="), "value=v"),
      400,
      201,
      "PrevValue is Required in POST form",
      '"prevValue" cannot be empty',
      0,
    );
    c.err(
      await c.put(c.keys("/k"), "value=v&prevValue="),
      400,
      201,
      "PrevValue is Required in POST form",
      '"prevValue" cannot be empty',
      0,
    );
    c.err(
      await c.del(c.keys("/k?prevValue=")),
      400,
      201,
      "PrevValue is Required in POST form",
      '"prevValue" cannot be empty',
      0,
    );
  });

  kase("refresh: with a value → 211; without ttl → 212", async (c) => {
    await c.put(c.keys("/k"), "value=v&ttl=100");
    c.err(
      await c.put(c.keys("/k?refresh=true"), "value=x&ttl=5"),
      400,
      211,
      "Value provided on refresh",
      "A value was provided on a refresh",
      0,
    );
    c.err(
      await c.put(c.keys("/k?refresh=true")),
      400,
      212,
      "A TTL must be provided on refresh",
      "No TTL value set",
      0,
    );
    c.err(
      await c.put(c.keys("/k?refresh=true"), "value=&ttl="),
      400,
      212,
      "A TTL must be provided on refresh",
      "No TTL value set",
      0,
    );
    c.eq(await c.index(), c.i(1), "index after rejected refreshes");
    await c.del(c.keys("/k"));
  });

  kase(
    "validation order: prevIndex, waitIndex, recursive, sorted, wait, dir, quorum, stream",
    async (c) => {
      const bad =
        "prevIndex=x&waitIndex=x&recursive=x&sorted=x&wait=x&dir=x&quorum=x&stream=x&noValueOnSuccess=x";
      const expected: [number, string][] = [
        [203, 'invalid value for "prevIndex"'],
        [203, 'invalid value for "waitIndex"'],
        [209, 'invalid value for "recursive"'],
        [209, 'invalid value for "sorted"'],
        [209, 'invalid value for "wait"'],
        [209, 'invalid value for "dir"'],
        [209, 'invalid value for "quorum"'],
        [209, 'invalid value for "stream"'],
        [209, 'invalid value for "noValueOnSuccess"'],
      ];
      const params = bad.split("&");
      for (let n = 0; n < expected.length; n++) {
        const [code, cause] = expected[n]!;
        const message =
          code === 203 ? "The given index in POST form is not a number" : "Invalid field";
        c.err(await c.get(c.keys(`/k?${params.slice(n).join("&")}`)), 400, code, message, cause, 0);
      }
    },
  );

  kase(
    "validation order: wait-method, prevValue, noValueOnSuccess, ttl, prevExist, refresh",
    async (c) => {
      c.err(
        await c.put(c.keys("/k?wait=true&prevValue=&ttl=x"), "value=v"),
        400,
        209,
        "Invalid field",
        '"wait" can only be used with GET requests',
        0,
      );
      c.err(
        await c.put(c.keys("/k?prevValue=&noValueOnSuccess=x"), "value=v"),
        400,
        201,
        "PrevValue is Required in POST form",
        '"prevValue" cannot be empty',
        0,
      );
      c.err(
        await c.put(c.keys("/k?noValueOnSuccess=x&ttl=x"), "value=v"),
        400,
        209,
        "Invalid field",
        'invalid value for "noValueOnSuccess"',
        0,
      );
      c.err(
        await c.put(c.keys("/k?ttl=x&prevExist=x"), "value=v"),
        400,
        202,
        "The given TTL in POST form is not a number",
        'invalid value for "ttl"',
        0,
      );
      c.err(
        await c.put(c.keys("/k?prevExist=x&refresh=x"), "value=v"),
        400,
        209,
        "Invalid field",
        "invalid value for prevExist",
        0,
      );
      c.err(
        await c.put(c.keys("/k?refresh=x"), "value=v"),
        400,
        209,
        "Invalid field",
        "invalid value for refresh",
        0,
      );
    },
  );

  kase(
    "parameters: the form body wins over the query; the first repeated value wins",
    async (c) => {
      c.ok(
        await c.put(c.keys("/a?value=q"), "value=b"),
        201,
        event("set", file(c.k("/a"), "b", c.i(1))),
        c.i(1),
      );
      c.ok(
        await c.put(c.keys("/b?value=q1&value=q2")),
        201,
        event("set", file(c.k("/b"), "q1", c.i(2))),
        c.i(2),
      );
      c.ok(
        await c.put(c.keys("/c"), "value=f1&value=f2"),
        201,
        event("set", file(c.k("/c"), "f1", c.i(3))),
        c.i(3),
      );
      c.ok(
        await c.put(c.keys("/d?value=q")),
        201,
        event("set", file(c.k("/d"), "q", c.i(4))),
        c.i(4),
      );
    },
  );

  kase("parameters: form encoding (+ is a space, percent-escapes)", async (c) => {
    c.ok(
      await c.put(c.keys("/a"), "value=a+b%2Bc%26d%3D"),
      201,
      event("set", file(c.k("/a"), "a b+c&d=", c.i(1))),
      c.i(1),
    );
    c.ok(
      await c.put(c.keys("/b?value=x+y")),
      201,
      event("set", file(c.k("/b"), "x y", c.i(2))),
      c.i(2),
    );
  });

  kase("parameters: a bad percent-escape in the query or the form → 210", async (c) => {
    c.err(
      await c.put(c.keys("/a?value=%zz")),
      400,
      210,
      "Invalid POST form",
      'invalid URL escape "%zz"',
      0,
    );
    c.err(
      await c.put(c.keys("/a"), "value=%zz"),
      400,
      210,
      "Invalid POST form",
      'invalid URL escape "%zz"',
      0,
    );
    c.err(
      await c.put(c.keys("/a"), "value=%4"),
      400,
      210,
      "Invalid POST form",
      'invalid URL escape "%4"',
      0,
    );
    c.err(
      await c.get(c.keys("/a?recursive=%zz")),
      400,
      210,
      "Invalid POST form",
      'invalid URL escape "%zz"',
      0,
    );
    c.eq(await c.index(), c.base, "index after rejected requests");
  });

  kase("bodies: only urlencoded forms on PUT/POST are read", async (c) => {
    c.ok(
      await c.put(c.keys("/plain"), "value=x", { contentType: "text/plain" }),
      201,
      event("set", file(c.k("/plain"), "", c.i(1))),
      c.i(1),
    );
    c.ok(
      await c.put(c.keys("/json"), '{"value":"x"}', { contentType: "application/json" }),
      201,
      event("set", file(c.k("/json"), "", c.i(2))),
      c.i(2),
    );
    c.ok(
      await c.put(c.keys("/none"), undefined, { body: "value=x" }),
      201,
      event("set", file(c.k("/none"), "", c.i(3))),
      c.i(3),
    );
    c.ok(
      await c.put(c.keys("/cs"), "value=x", {
        contentType: "application/x-www-form-urlencoded; charset=utf-8",
      }),
      201,
      event("set", file(c.k("/cs"), "x", c.i(4))),
      c.i(4),
    );
    const boundary = "XyZ";
    const multipart = `--${boundary}\r\nContent-Disposition: form-data; name="value"\r\n\r\nmp\r\n--${boundary}--\r\n`;
    c.ok(
      await c.put(c.keys("/mp"), multipart, {
        contentType: `multipart/form-data; boundary=${boundary}`,
      }),
      201,
      event("set", file(c.k("/mp"), "", c.i(5))),
      c.i(5),
    );
  });

  kase("bodies: odd or empty Content-Types are ignored; a malformed one is 210", async (c) => {
    let n = 0;
    for (const ct of [
      "",
      "application/json; charset=utf-8",
      "application/x-www-form-urlencodedx",
    ]) {
      n++;
      c.ok(
        await c.put(c.keys(`/b${n}`), '{"value":"j"}', { contentType: ct }),
        201,
        event("set", file(c.k(`/b${n}`), "", c.i(n))),
        c.i(n),
      );
    }
    // Go parses the media type of every PUT/POST body before deciding to ignore it.
    c.err(
      await c.put(c.keys("/bad"), "value=v", { contentType: "x/y; z" }),
      400,
      210,
      "Invalid POST form",
      "mime: invalid media parameter",
      0,
    );
  });

  kase("refresh=false (or any false spelling) is an ordinary write", async (c) => {
    c.ok(
      await c.put(c.keys("/a?refresh=false"), "value=t"),
      201,
      event("set", file(c.k("/a"), "t", c.i(1))),
      c.i(1),
    );
    c.ok(
      await c.put(c.keys("/a"), "value=u&refresh=0"),
      200,
      event("set", file(c.k("/a"), "u", c.i(2)), file(c.k("/a"), "t", c.i(1))),
      c.i(2),
    );
    c.err(await c.put(c.keys("?refresh=F"), "value=t"), 403, 102, "Not a file", c.k(), c.i(2));
  });

  kase("bodies: a value over --max-request-bytes (1.5 MiB) is accepted", async (c) => {
    const big = "x".repeat(2 * 1024 * 1024);
    const res = await c.put(c.keys("/big"), `value=${big}`, { mask: (b) => b.replace(big, "BIG") });
    c.ok(res, 201, event("set", file(c.k("/big"), "BIG", c.i(1))), c.i(1));
    await c.del(c.keys("/big"));
  });

  kase("bodies: a form over 10 MiB → 210 http: POST too large", async (c) => {
    const big = "x".repeat(10 * 1024 * 1024 + 10);
    c.err(
      await c.put(c.keys("/big"), `value=${big}`),
      400,
      210,
      "Invalid POST form",
      "http: POST too large",
      0,
    );
    c.eq(await c.index(), c.base, "index after the rejected request");
  });

  kase("a raw non-UTF-8 byte in the query is just a byte (and bypasses no check)", async (c) => {
    // node:http sends U+00E9 in the request target as the single byte 0xE9,
    // which Go's encoder writes as the escape \ufffd.
    c.ok(
      await c.put(c.keys("/q?value=\u00e9")),
      201,
      `{"action":"set","node":{"key":"${c.k("/q")}","value":"\\ufffd","modifiedIndex":${c.i(1)},"createdIndex":${c.i(1)}}}\n`,
      c.i(1),
    );
    const big = `value=${"x".repeat(10 * 1024 * 1024 + 10)}`;
    c.err(
      await c.post(c.keys("/big?unknown=\u00e9"), big, {
        mask: (b) => b.replace(/x{100,}/g, "XS"),
      }),
      400,
      210,
      "Invalid POST form",
      "http: POST too large",
      0,
    );
    c.eq(await c.index(), c.i(1), "index after the rejected request");
  });

  kase("key paths: percent-decoded, cleaned; %2F is a separator", async (c) => {
    c.ok(
      await c.put(c.keys("/sp%20ace"), "value=1"),
      201,
      event("set", file(c.k("/sp ace"), "1", c.i(1))),
      c.i(1),
    );
    c.ok(
      await c.get(c.keys("/sp ace".replace(" ", "%20"))),
      200,
      event("get", file(c.k("/sp ace"), "1", c.i(1))),
      c.i(1),
    );
    c.ok(
      await c.put(c.keys("/a%2Fb"), "value=2"),
      201,
      event("set", file(c.k("/a/b"), "2", c.i(2))),
      c.i(2),
    );
    c.ok(
      await c.put(c.keys("/plus+sign"), "value=3"),
      201,
      event("set", file(c.k("/plus+sign"), "3", c.i(3))),
      c.i(3),
    );
    c.ok(
      await c.put(c.keys("/%C3%A9t%C3%A9"), "value=4"),
      201,
      event("set", file(c.k("/été"), "4", c.i(4))),
      c.i(4),
    );
    c.ok(
      await c.put(c.keys("/a%3Fb"), "value=5"),
      201,
      event("set", file(c.k("/a?b"), "5", c.i(5))),
      c.i(5),
    );
    // Go's mux matches the decoded path, so even the slash after /v2/keys may be %2F.
    c.ok(
      await c.put(`/v2/keys%2F${c.k("/enc").slice(1)}`, "value=6"),
      201,
      event("set", file(c.k("/enc"), "6", c.i(6))),
      c.i(6),
    );
  });
});
