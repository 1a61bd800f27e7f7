/**
 * Spec §1.2 with a non-`*` --cors list: a listed Origin is echoed with the
 * CORS headers; any other origin (or none) gets no CORS headers at all;
 * OPTIONS still answers 200 with an empty body. (etcd's --cors wants
 * host:port origins, hence the explicit ports.)
 */
import { conformance } from "./harness/case.js";

const ORIGINS = ["http://allowed.example:80", "http://two.example:8080"];

const cors = (origin: string) => ({
  "access-control-allow-headers": "accept, content-type, authorization",
  "access-control-allow-methods": "POST, GET, OPTIONS, PUT, DELETE",
  "access-control-allow-origin": origin,
});

const NONE = {
  "access-control-allow-headers": null,
  "access-control-allow-methods": null,
  "access-control-allow-origin": null,
};

conformance(
  "§1.2 CORS with an origin list",
  "co",
  (kase) => {
    kase("a listed origin is echoed", async (c) => {
      for (const origin of ORIGINS) {
        c.check(await c.get("/version", { headers: { origin } }), {
          status: 200,
          headers: cors(origin),
        });
        c.check(await c.put(c.keys("/a"), "value=1", { headers: { origin } }), {
          status: origin === ORIGINS[0] ? 201 : 200,
          headers: cors(origin),
        });
        c.check(await c.get(c.keys("/zz"), { headers: { origin } }), {
          status: 404,
          headers: cors(origin),
        });
      }
    });

    kase("other origins, near misses and no origin get no CORS headers", async (c) => {
      for (const origin of [
        "http://other.example:80",
        "http://allowed.example",
        "https://allowed.example:80",
        "*",
      ]) {
        c.check(await c.get("/version", { headers: { origin } }), { status: 200, headers: NONE });
      }
      c.check(await c.get("/version"), { status: 200, headers: NONE });
      c.check(await c.get("/nonexist"), { status: 404, headers: NONE });
    });

    kase("OPTIONS: 200 and empty either way", async (c) => {
      c.check(await c.req("OPTIONS", c.keys("/a"), { headers: { origin: ORIGINS[1]! } }), {
        status: 200,
        body: "",
        headers: cors(ORIGINS[1]!),
      });
      c.check(
        await c.req("OPTIONS", c.keys("/a"), { headers: { origin: "http://other.example:1" } }),
        {
          status: 200,
          body: "",
          headers: NONE,
        },
      );
    });
  },
  { cairn: { cors: ORIGINS }, etcdArgs: ["--cors", ORIGINS.join(",")] },
);
