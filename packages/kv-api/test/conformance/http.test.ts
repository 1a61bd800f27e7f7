/**
 * Spec §1: routing (404, 301 for unclean paths, 405 with Allow, OPTIONS,
 * HEAD), CORS with the default `*`, JSON encoding details (Go escaping,
 * invalid UTF-8, trailing newlines) and the standard headers.
 */
import { type CaseContext, conformance, type Res } from "./harness/case.js";
import { header } from "./harness/http.js";
import { event, file } from "./harness/v2.js";

const CORS = {
  "access-control-allow-headers": "accept, content-type, authorization",
  "access-control-allow-methods": "POST, GET, OPTIONS, PUT, DELETE",
  "access-control-allow-origin": "*",
};

const NOT_FOUND = {
  status: 404,
  body: "404 page not found\n",
  headers: {
    ...CORS,
    "content-type": "text/plain; charset=utf-8",
    "x-content-type-options": "nosniff",
  },
};

function methodNotAllowed(allow: string) {
  return {
    status: 405,
    body: "Method Not Allowed\n",
    headers: {
      ...CORS,
      allow,
      "content-type": "text/plain; charset=utf-8",
      "x-content-type-options": "nosniff",
    },
  };
}

function moved(c: CaseContext, res: Res, location: string) {
  // Go's http.Redirect writes the little HTML body only for GET and HEAD.
  const withBody = res.request.startsWith("GET ");
  c.check(res, {
    status: 301,
    body: withBody ? `<a href="${location}">Moved Permanently</a>.\n\n` : "",
    headers: {
      ...CORS,
      location,
      "content-type": withBody ? "text/html; charset=utf-8" : null,
    },
  });
}

conformance("§1 HTTP: routing, CORS, encoding, headers", "hp", (kase) => {
  // §1.1 routing
  kase("unknown paths → 404 page not found", async (c) => {
    for (const path of ["/v2/", "/nonexist", "/v2/keysx", "/v2/stats", "/v2/stats/nope", "/"]) {
      c.check(await c.get(path), NOT_FOUND);
    }
    c.check(await c.put("/nonexist", "value=1"), NOT_FOUND);
  });

  kase(
    "trailing slashes: /v2/members/ lists; /version/, /health/, /v2/machines/, /v2/stats/self/ are 404",
    async (c) => {
      for (const path of ["/version/", "/health/", "/v2/machines/", "/v2/stats/self/"]) {
        c.check(await c.get(path), NOT_FOUND);
      }
      c.check(await c.get("/v2/members/", { mask: () => "<members>" }), {
        status: 200,
        headers: { ...CORS, "content-type": "application/json" },
      });
    },
  );

  kase("unclean paths → 301 to the cleaned path, query kept, nothing written", async (c) => {
    moved(c, await c.get("/v2/keys//sp%20ace/"), "/v2/keys/sp%20ace/");
    moved(c, await c.get(`/v2/keys${c.k("/a/../b")}`), `/v2/keys${c.k("/b")}`);
    moved(
      c,
      await c.get(`/v2/keys${c.k("/./b")}?recursive=true`),
      `/v2/keys${c.k("/b")}?recursive=true`,
    );
    moved(c, await c.put(`/v2/keys${c.k("//w")}`, "value=1"), `/v2/keys${c.k("/w")}`);
    moved(c, await c.del(`/v2/keys${c.k("/x/..")}`), `/v2/keys${c.p}`);
    moved(c, await c.get("//version"), "/version");
    c.eq(await c.index(), c.base, "index after redirected writes");
  });

  kase("unsupported methods → 405 with Allow", async (c) => {
    c.check(await c.req("PATCH", c.keys("/a")), methodNotAllowed("HEAD,GET,PUT,POST,DELETE"));
    c.check(await c.req("FOO", c.keys("/a")), methodNotAllowed("HEAD,GET,PUT,POST,DELETE"));
    c.check(await c.req("TRACE", "/v2/keys/"), methodNotAllowed("HEAD,GET,PUT,POST,DELETE"));
    for (const s of ["self", "leader", "store"]) {
      c.check(await c.post(`/v2/stats/${s}`), methodNotAllowed("GET"));
    }
    c.check(await c.post("/v2/machines"), methodNotAllowed("GET,HEAD"));
    // PUT/DELETE on the member collection: 405 without Allow, with the cluster id
    for (const method of ["PUT", "DELETE"]) {
      c.check(await c.req(method, "/v2/members"), {
        status: 405,
        body: "Method Not Allowed\n",
        headers: { ...CORS, allow: null, "x-etcd-cluster-id": /^[0-9a-f]+$/ },
      });
    }
    c.check(await c.head("/v2/members"), { ...methodNotAllowed("GET,POST,DELETE,PUT"), body: "" });
    c.check(await c.post("/version"), methodNotAllowed("GET"));
    c.check(await c.post("/health"), methodNotAllowed("GET"));
  });

  kase("OPTIONS on any path → 200, empty body, CORS headers only", async (c) => {
    for (const path of [c.keys("/a"), "/nonexist", "/version", "/v2/members", "/v2/stats/self"]) {
      c.check(await c.req("OPTIONS", path), {
        status: 200,
        body: "",
        headers: { ...CORS, "content-type": null },
      });
    }
    c.eq(await c.index(), c.base, "OPTIONS wrote nothing");
  });

  kase("HEAD: /v2/machines answers; /version and /health are GET only", async (c) => {
    c.check(await c.head("/v2/machines"), {
      status: 200,
      body: "",
      headers: { ...CORS, "content-type": "text/plain; charset=utf-8" },
    });
    c.check(await c.head("/version"), { ...methodNotAllowed("GET"), body: "" });
    c.check(await c.head("/health"), { ...methodNotAllowed("GET"), body: "" });
  });

  kase("raw HTTP: what Go's server itself answers", async (c) => {
    const r1 = await c.raw(
      Buffer.from(`GET ${c.keys("/a%zz")} HTTP/1.1\r\nHost: x\r\n\r\n`),
      "GET /a%zz",
    );
    c.eq(r1.statusLine, "HTTP/1.1 400 Bad Request", "bad path escape: status line");
    c.eq(r1.text, "400 Bad Request", "bad path escape: body");
    c.eq(header(r1, "connection"), "close", "bad path escape: connection");
    c.eq(header(r1, "access-control-allow-origin"), undefined, "bad path escape: no CORS");
    const r2 = await c.raw(
      Buffer.from(`GET ${c.keys()} HTTP/1.1\r\nConnection: close\r\n\r\n`),
      "no Host",
    );
    c.eq(
      r2.statusLine,
      "HTTP/1.1 400 Bad Request: missing required Host header",
      "no Host: status line",
    );
    c.eq(r2.text, "400 Bad Request: missing required Host header", "no Host: body");
    const r3 = await c.raw(
      Buffer.from("OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
      "OPTIONS *",
    );
    c.check(r3, {
      status: 200,
      body: "",
      headers: { "content-length": "0", "access-control-allow-origin": null },
    });
  });

  kase(
    "raw HTTP: methods are case-sensitive (a lowercase put is 405 and writes nothing)",
    async (c) => {
      const res = await c.raw(
        Buffer.from(
          `put ${c.keys("/lc")} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 7\r\n\r\nvalue=1`,
        ),
        "lowercase put",
      );
      c.check(res, {
        status: 405,
        body: "Method Not Allowed\n",
        headers: { allow: "HEAD,GET,PUT,POST,DELETE", "content-type": "text/plain; charset=utf-8" },
      });
      const get = await c.raw(
        Buffer.from(`get ${c.keys("/lc")} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`),
        "lowercase get",
      );
      c.check(get, { status: 405, body: "Method Not Allowed\n" });
      c.eq(await c.index(), c.base, "nothing written");
    },
  );

  kase("raw HTTP: request headers up to Go's 1 MiB limit are accepted; beyond → 431", async (c) => {
    await c.put(c.keys("/a"), "value=1");
    const fine = await c.raw(
      Buffer.from(
        `GET ${c.keys("/a")} HTTP/1.1\r\nHost: x\r\nX-Big: ${"h".repeat(100 * 1024)}\r\nConnection: close\r\n\r\n`,
      ),
      "100 KiB header",
    );
    c.check(fine, { status: 200, body: event("get", file(c.k("/a"), "1", c.i(1))) });
    const big = await c.raw(
      Buffer.from(
        `GET ${c.keys("/a")} HTTP/1.1\r\nHost: x\r\nX-Big: ${"h".repeat(1024 * 1024 + 8 * 1024)}\r\nConnection: close\r\n\r\n`,
      ),
      "1 MiB + 8 KiB header",
    );
    c.eq(
      big.statusLine,
      "HTTP/1.1 431 Request Header Fields Too Large",
      "oversize header: status line",
    );
    c.eq(big.text, "431 Request Header Fields Too Large", "oversize header: body");
  });

  kase("raw HTTP: TRACE with a body is a plain 405", async (c) => {
    const res = await c.raw(
      Buffer.from(
        `TRACE ${c.keys("/a")} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 7\r\n\r\nvalue=1`,
      ),
      "TRACE with body",
    );
    c.check(res, {
      status: 405,
      body: "Method Not Allowed\n",
      headers: { allow: "HEAD,GET,PUT,POST,DELETE" },
    });
  });

  kase(
    "raw HTTP: etcd's listener (cmux) hangs up on a first line that is not HTTP/1.x within 4096 bytes",
    async (c) => {
      await c.put(c.keys("/a"), "value=1");
      const lineOf = (length: number) => {
        const start = `GET ${c.keys("/a")}?pad=`;
        const end = " HTTP/1.1\r\n";
        return start + "p".repeat(length - start.length - end.length) + end;
      };
      const rest = "Host: x\r\nConnection: close\r\n\r\n";
      const fits = await c.raw(Buffer.from(lineOf(4096) + rest), "request line of 4096 bytes");
      c.check(fits, { status: 200, body: event("get", file(c.k("/a"), "1", c.i(1))) });
      for (const [label, bytes] of [
        ["request line of 4097 bytes", lineOf(4097) + rest],
        ["HTTP/9.9", `GET ${c.keys("/a")} HTTP/9.9\r\n${rest}`],
        ["two spaces", `GET  ${c.keys("/a")} HTTP/1.1\r\n${rest}`],
        ["no version", `GET ${c.keys("/a")}\r\n${rest}`],
      ] as const) {
        const res = await c.raw(Buffer.from(bytes), label);
        c.eq(res.statusLine, "", `${label}: no answer, the connection is closed`);
      }
    },
  );

  kase(
    "raw HTTP: TRACE, CONNECT and TRACK with a raw non-UTF-8 byte in the path are 405",
    async (c) => {
      for (const method of ["TRACE", "CONNECT", "TRACK"]) {
        const res = await c.raw(
          Buffer.concat([
            Buffer.from(`${method} ${c.keys("/a")}`),
            Buffer.from([0xe9]),
            Buffer.from(
              " HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 7\r\n\r\nvalue=1",
            ),
          ]),
          `${method} with a raw byte`,
        );
        c.check(res, {
          status: 405,
          body: "Method Not Allowed\n",
          headers: { allow: "HEAD,GET,PUT,POST,DELETE" },
        });
      }
    },
  );

  kase("raw HTTP: HTTP/1.0, absolute URIs and raw non-UTF-8 bytes are served", async (c) => {
    await c.put(c.keys("/a"), "value=1");
    const get = event("get", file(c.k("/a"), "1", c.i(1)));
    const r1 = await c.raw(Buffer.from(`GET ${c.keys("/a")} HTTP/1.0\r\n\r\n`), "HTTP/1.0");
    c.eq(r1.statusLine, "HTTP/1.0 200 OK", "HTTP/1.0 status line");
    c.check(r1, {
      status: 200,
      body: get,
      headers: { "content-length": String(get.length), "transfer-encoding": null },
    });
    const r2 = await c.raw(
      Buffer.from(`GET http://x${c.keys("/a")} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`),
      "absolute URI",
    );
    c.check(r2, { status: 200, body: get });
    const r3 = await c.raw(
      Buffer.concat([
        Buffer.from(`PUT ${c.keys("/r")}`),
        Buffer.from([0xe9]),
        Buffer.from(
          " HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 7\r\n\r\nvalue=2",
        ),
      ]),
      "raw 0xe9 in the path",
    );
    c.check(r3, {
      status: 201,
      body: `{"action":"set","node":{"key":"${c.k("/r\\ufffd")}","value":"2","modifiedIndex":${c.i(2)},"createdIndex":${c.i(2)}}}\n`,
    });
  });

  // §1.2 CORS on every response
  kase("CORS headers on successes, errors, 404s and 405s", async (c) => {
    c.check(await c.put(c.keys("/a"), "value=1"), { status: 201, headers: CORS });
    c.check(await c.get(c.keys("/zz")), { status: 404, headers: CORS });
    c.check(await c.get(c.keys("/a?ttl=x&recursive=x")), { status: 400, headers: CORS });
    c.check(await c.get("/version"), { status: 200, headers: CORS });
    c.check(await c.get("/health"), { status: 200, headers: CORS });
    c.check(await c.get("/v2/members", { mask: () => "<members>" }), {
      status: 200,
      headers: CORS,
    });
    c.check(await c.get("/v2/stats/store", { mask: () => "<stats>" }), {
      status: 200,
      headers: CORS,
    });
    c.check(await c.get(c.keys("/a"), { headers: { origin: "http://elsewhere.example" } }), {
      status: 200,
      headers: CORS,
    });
  });

  // §1.3 JSON encoding
  kase("Go escaping of < > & and quotes in values and keys", async (c) => {
    c.ok(
      await c.put(c.keys("/e"), `value=${encodeURIComponent('<a>&"q"')}`),
      201,
      `{"action":"set","node":{"key":"${c.k("/e")}","value":"\\u003ca\\u003e\\u0026\\"q\\"","modifiedIndex":${c.i(1)},"createdIndex":${c.i(1)}}}\n`,
      c.i(1),
    );
    c.ok(
      await c.put(c.keys("/%3Cb%3E%26"), "value=1"),
      201,
      `{"action":"set","node":{"key":"${c.k("/\\u003cb\\u003e\\u0026")}","value":"1","modifiedIndex":${c.i(2)},"createdIndex":${c.i(2)}}}\n`,
      c.i(2),
    );
  });

  kase("control characters, non-ASCII, U+2028 and invalid UTF-8 in values", async (c) => {
    const cases: [string, string][] = [
      ["%0A%09%0D", "\\n\\t\\r"],
      ["%01%1F%7F", "\\u0001\\u001f\u007f"],
      ["%C3%A9%E2%82%AC", "é€"],
      ["%E2%80%A8%E2%80%A9", "\\u2028\\u2029"],
      ["%FF%FEa", "\\ufffd\\ufffda"],
      ["%5C%2F", "\\\\/"],
    ];
    let n = 0;
    for (const [raw, json] of cases) {
      n++;
      c.ok(
        await c.put(c.keys(`/v${n}`), `value=${raw}`),
        201,
        `{"action":"set","node":{"key":"${c.k(`/v${n}`)}","value":"${json}","modifiedIndex":${c.i(n)},"createdIndex":${c.i(n)}}}\n`,
        c.i(n),
      );
    }
  });

  kase("invalid UTF-8 in a key path", async (c) => {
    c.ok(
      await c.put(c.keys("/k%FF"), "value=1"),
      201,
      `{"action":"set","node":{"key":"${c.k("/k\\ufffd")}","value":"1","modifiedIndex":${c.i(1)},"createdIndex":${c.i(1)}}}\n`,
      c.i(1),
    );
    c.ok(
      await c.get(c.keys("/k%FF")),
      200,
      `{"action":"get","node":{"key":"${c.k("/k\\ufffd")}","value":"1","modifiedIndex":${c.i(1)},"createdIndex":${c.i(1)}}}\n`,
      c.i(1),
    );
  });

  kase(
    "trailing newlines: keys and members bodies end with one; version, health, stats, machines do not",
    async (c) => {
      const version = await c.get("/version");
      c.check(version, {
        status: 200,
        body: '{"etcdserver":"3.4.23","etcdcluster":"3.4.0"}',
        headers: { ...CORS, "content-type": "application/json", "x-etcd-cluster-id": null },
      });
      c.check(await c.get("/health"), {
        status: 200,
        body: '{"health":"true"}',
        headers: { ...CORS, "content-type": "text/plain; charset=utf-8" },
      });
      const machines = await c.get("/v2/machines");
      c.check(machines, {
        status: 200,
        body: c.target.url,
        headers: { ...CORS, "content-type": "text/plain; charset=utf-8" },
      });
      const stats = await c.get("/v2/stats/store", { mask: () => "" });
      c.eq(stats.body.at(-1) === 0x7d, true, "stats/store ends with }");
      const members = await c.get("/v2/members", { mask: () => "" });
      c.eq(members.body.at(-1) === 0x0a, true, "members ends with a newline");
    },
  );

  // §1.4 headers
  kase(
    "headers: success vs error on /v2/keys; X-Etcd-Index of a get is the current index",
    async (c) => {
      await c.put(c.keys("/a"), "value=1");
      await c.put(c.keys("/b"), "value=1");
      c.ok(await c.get(c.keys("/a")), 200, event("get", file(c.k("/a"), "1", c.i(1))), c.i(2));
      c.err(
        await c.put(c.keys("/a?prevExist=false"), "value=1"),
        412,
        105,
        "Key already exists",
        c.k("/a"),
        c.i(2),
      );
      c.eq(await c.index(), c.i(2), "a failed write consumes no index");
    },
  );
});
