import { describe, expect, it } from "vitest";
import { createKvApi } from "../src/app.js";
import { goString } from "../src/json.js";
import { LocalBackend } from "../src/local-backend.js";

// Route tests without a socket (app.request). The conformance suite under
// test/conformance checks the same surface against a real etcd.

const T0 = 1_790_000_000_000_000;
const FORM = { "Content-Type": "application/x-www-form-urlencoded" };

function setup(options: { cors?: string[] } = {}) {
  let now = T0;
  const backend = new LocalBackend({ clock: () => now, sweepIntervalMs: 3_600_000 });
  const app = createKvApi(backend, { ...options, clock: () => now });
  const req = async (method: string, path: string, body?: string, headers = FORM) => {
    const init: RequestInit = { method, headers };
    if (body !== undefined) init.body = body;
    const res = await app.request(`http://cairn.test${path}`, init);
    return { status: res.status, headers: res.headers, text: await res.text() };
  };
  return {
    backend,
    app,
    req,
    advance: (us: number) => {
      now += us;
    },
    close: () => backend.close(),
  };
}

describe("/v2/keys parameters (spec §3)", () => {
  it("starts where a fresh etcd member does: store index 3, raft index 4, etcd's default ids", async () => {
    const t = setup();
    const r = await t.req("GET", "/v2/keys/");
    expect(r.text).toBe('{"action":"get","node":{"dir":true}}\n');
    expect(r.headers.get("X-Etcd-Index")).toBe("3");
    expect(r.headers.get("X-Raft-Index")).toBe("4");
    expect(r.headers.get("X-Raft-Term")).toBe("2");
    expect(r.headers.get("X-Etcd-Cluster-Id")).toBe("cdf818194e3a8c32");
    expect(t.backend.memberId).toBe("8e9e05c52164694d");
    t.close();
  });

  it.each([
    ["prevIndex=x", 203, 'invalid value for \\"prevIndex\\"'],
    ["waitIndex=-1", 203, 'invalid value for \\"waitIndex\\"'],
    ["recursive=yes", 209, 'invalid value for \\"recursive\\"'],
    ["sorted=", 209, 'invalid value for \\"sorted\\"'],
    ["wait=2", 209, 'invalid value for \\"wait\\"'],
    ["dir=on", 209, 'invalid value for \\"dir\\"'],
    ["quorum=y", 209, 'invalid value for \\"quorum\\"'],
    ["stream=n", 209, 'invalid value for \\"stream\\"'],
    ["wait=true", 209, '\\"wait\\" can only be used with GET requests'],
    ["prevValue=", 201, '\\"prevValue\\" cannot be empty'],
    ["noValueOnSuccess=2", 209, 'invalid value for \\"noValueOnSuccess\\"'],
    ["ttl=-1", 202, 'invalid value for \\"ttl\\"'],
    ["ttl=18446744073709551616", 202, 'invalid value for \\"ttl\\"'],
    ["prevExist=maybe", 209, "invalid value for prevExist"],
    ["refresh=x", 209, "invalid value for refresh"],
    ["refresh=true&value=v&ttl=5", 211, "A value was provided on a refresh"],
    ["refresh=true", 212, "No TTL value set"],
    ["a=%zz", 210, 'invalid URL escape \\"%zz\\"'],
    ["a=1;b=2", 210, "invalid semicolon separator in query"],
    // validation order: prevIndex before recursive, ttl before prevExist
    ["recursive=x&prevIndex=x", 203, 'invalid value for \\"prevIndex\\"'],
    ["prevExist=x&ttl=x", 202, 'invalid value for \\"ttl\\"'],
  ])("PUT ?%s → %i, nothing written", async (query, code, cause) => {
    const t = setup();
    const r = await t.req("PUT", `/v2/keys/p?${query}`);
    const message = (await import("@cairn/v2store")).V2_ERROR_MESSAGES[code];
    expect(r.text).toBe(
      `{"errorCode":${code},"message":"${message}","cause":"${cause}","index":0}\n`,
    );
    expect(r.status).toBe(400);
    expect(r.headers.get("X-Etcd-Index")).toBe("0");
    expect(r.headers.get("X-Raft-Index")).toBeNull();
    expect((await t.req("GET", "/v2/keys/p")).status).toBe(404);
    t.close();
  });

  it("body values win over the query, the first of repeated names is used, + is a space", async () => {
    const t = setup();
    const r = await t.req("PUT", "/v2/keys/b?value=query", "value=a+b%21&value=second");
    expect(JSON.parse(r.text).node.value).toBe("a b!");
    t.close();
  });

  it("bodies are read only for urlencoded PUT/POST: DELETE and text/plain bodies are ignored", async () => {
    const t = setup();
    await t.req("PUT", "/v2/keys/k", "value=v");
    const plain = await t.req("PUT", "/v2/keys/t", "value=v", { "Content-Type": "text/plain" });
    expect(JSON.parse(plain.text).node.value).toBe("");
    const del = await t.req("DELETE", "/v2/keys/k", "prevValue=zzz");
    expect(JSON.parse(del.text).action).toBe("delete");
    t.close();
  });

  it("a form body over 10 MiB → 210 http: POST too large; 10 MB values are fine", async () => {
    const t = setup();
    const big = await t.req("PUT", "/v2/keys/big", `value=${"x".repeat(10 * 1024 * 1024)}`);
    expect(big.status).toBe(400);
    expect(big.text).toBe(
      '{"errorCode":210,"message":"Invalid POST form","cause":"http: POST too large","index":0}\n',
    );
    const ok = await t.req("PUT", "/v2/keys/big", `value=${"x".repeat(10_000_000)}`);
    expect(ok.status).toBe(201);
    // Over 2 KiB Go streams the body chunked: no Content-Length.
    expect(ok.headers.get("Content-Length")).toBeNull();
    t.close();
  });

  it("invalid UTF-8 is kept byte for byte and rendered as Go does (\\ufffd per bad byte)", async () => {
    const t = setup();
    const r = await t.req("PUT", "/v2/keys/bad", "value=%ff%e2%82x");
    expect(r.text).toContain('"value":"\\ufffd\\ufffd\\ufffdx"');
    const cas = await t.req("PUT", "/v2/keys/bad?prevValue=%ff%e2%82x", "value=ok");
    expect(JSON.parse(cas.text).action).toBe("compareAndSwap");
    t.close();
  });

  it("a huge ttl overflows exactly like Go's int64 nanoseconds", async () => {
    const t = setup();
    // 2^64-1 s wraps to -1 s: already expired, ttl -1.
    const neg = await t.req("PUT", "/v2/keys/t?ttl=18446744073709551615", "value=1");
    expect(JSON.parse(neg.text).node.ttl).toBe(-1);
    // 9999999999 s overflows past year 2262: UnixNano wraps negative → permanent.
    const perm = await t.req("PUT", "/v2/keys/t2?ttl=9999999999", "value=1");
    expect(JSON.parse(perm.text).node.expiration).toBeUndefined();
    t.close();
  });
});

describe("/v2/keys actions through the app (spec §4–§7)", () => {
  it("status codes, noValueOnSuccess, quorum reads, HEAD", async () => {
    const t = setup();
    const created = await t.req("PUT", "/v2/keys/k", "value=v1");
    expect(created.status).toBe(201);
    const replaced = await t.req("PUT", "/v2/keys/k?noValueOnSuccess=true", "value=v2");
    expect(replaced.status).toBe(200);
    expect(replaced.text).toBe('{"action":"set"}\n');
    const q = await t.req("GET", "/v2/keys/k?quorum=true");
    expect(JSON.parse(q.text).node.value).toBe("v2");
    expect(q.headers.get("X-Raft-Index")).toBe("7");
    const head = await t.req("HEAD", "/v2/keys/k");
    expect(head.text).toBe("");
    expect(head.headers.get("Content-Length")).toBe(
      String((await t.req("GET", "/v2/keys/k")).text.length),
    );
    const headMissing = await t.req("HEAD", "/v2/keys/nope");
    expect(headMissing.status).toBe(404);
    expect(headMissing.text).toBe("");
    expect(Number(headMissing.headers.get("Content-Length"))).toBeGreaterThan(0);
    t.close();
  });

  it("TTL expiry runs through the replicated-style sweep", async () => {
    const t = setup();
    const r = await t.req("PUT", "/v2/keys/t?ttl=1", "value=x");
    expect(JSON.parse(r.text).node).toMatchObject({
      expiration: "2026-09-21T14:13:21Z",
      ttl: 1,
    });
    t.advance(1_200_000);
    t.backend.sweep();
    expect((await t.req("GET", "/v2/keys/t")).status).toBe(404);
    const w = await t.req("GET", "/v2/keys/t?wait=true&waitIndex=4");
    expect(JSON.parse(w.text)).toMatchObject({ action: "set" });
    const e = await t.req("GET", "/v2/keys/t?wait=true&waitIndex=5");
    expect(JSON.parse(e.text)).toMatchObject({ action: "expire", node: { key: "/t" } });
    t.close();
  });

  it("a long poll answers with the next matching event; X-Etcd-Index is the index at registration", async () => {
    const t = setup();
    const pending = t.app.request("http://cairn.test/v2/keys/w?wait=true");
    await new Promise((r) => setTimeout(r, 20));
    await t.req("PUT", "/v2/keys/w", "value=1");
    const res = await pending;
    expect(res.headers.get("X-Etcd-Index")).toBe("3");
    expect(await res.text()).toBe(
      '{"action":"set","node":{"key":"/w","value":"1","modifiedIndex":4,"createdIndex":4}}\n',
    );
    const cleared = await t.req("GET", "/v2/keys/w?wait=true&waitIndex=1");
    expect(JSON.parse(cleared.text).action).toBe("set");
    t.close();
  });

  it("a stream watch delivers every event until the client goes away", async () => {
    const t = setup();
    const ac = new AbortController();
    const res = await t.app.request(
      "http://cairn.test/v2/keys/s?wait=true&stream=true&recursive=true",
      {
        signal: ac.signal,
      },
    );
    const reader = res.body!.getReader();
    await t.req("PUT", "/v2/keys/s/a", "value=1");
    await t.req("PUT", "/v2/keys/s/b", "value=2");
    let text = "";
    while (text.split("\n").length < 3) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    expect(
      text
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l).node.key),
    ).toEqual(["/s/a", "/s/b"]);
    await reader.cancel();
    expect((await t.backend.storeStats()).watchers).toBe(0);
    t.close();
  });
});

describe("routing, CORS and the other endpoints (spec §1, §9, §10)", () => {
  it("404 page, 405 with Allow, OPTIONS, 301 for unclean paths", async () => {
    const t = setup();
    const nf = await t.req("GET", "/nonexist");
    expect([nf.status, nf.text, nf.headers.get("X-Content-Type-Options")]).toEqual([
      404,
      "404 page not found\n",
      "nosniff",
    ]);
    const na = await t.req("PATCH", "/v2/keys/a");
    expect([na.status, na.text, na.headers.get("Allow")]).toEqual([
      405,
      "Method Not Allowed\n",
      "HEAD,GET,PUT,POST,DELETE",
    ]);
    expect((await t.req("POST", "/v2/stats/self")).headers.get("Allow")).toBe("GET");
    const opt = await t.req("OPTIONS", "/anything");
    expect([opt.status, opt.text, opt.headers.get("Access-Control-Allow-Origin")]).toEqual([
      200,
      "",
      "*",
    ]);
    const moved = await t.req("GET", "/v2/keys//sp%20ace/?x=1");
    expect(moved.status).toBe(301);
    expect(moved.headers.get("Location")).toBe("/v2/keys/sp%20ace/?x=1");
    expect(moved.text).toBe('<a href="/v2/keys/sp%20ace/?x=1">Moved Permanently</a>.\n\n');
    t.close();
  });

  it("with an origin list, only listed origins are echoed", async () => {
    const t = setup({ cors: ["http://a.example"] });
    const yes = await t.req("GET", "/version", undefined, { Origin: "http://a.example" } as never);
    expect(yes.headers.get("Access-Control-Allow-Origin")).toBe("http://a.example");
    const no = await t.req("GET", "/version", undefined, { Origin: "http://b.example" } as never);
    expect(no.headers.get("Access-Control-Allow-Origin")).toBeNull();
    t.close();
  });

  it("members, leader, machines, stats, version, health shapes", async () => {
    const t = setup();
    const m = await t.req("GET", "/v2/members");
    expect(m.text).toBe(
      '{"members":[{"id":"8e9e05c52164694d","name":"default","peerURLs":["http://localhost:2380"],"clientURLs":["http://localhost:2379"]}]}\n',
    );
    expect((await t.req("GET", "/v2/members/leader")).text).toContain('"id":"8e9e05c52164694d"');
    expect((await t.req("GET", "/v2/members/x")).text).toBe('{"message":"Not found"}');
    expect((await t.req("GET", "/v2/machines")).text).toBe("http://localhost:2379");
    expect((await t.req("GET", "/version")).text).toBe(
      '{"etcdserver":"3.4.23","etcdcluster":"3.4.0"}',
    );
    expect((await t.req("GET", "/health")).text).toBe('{"health":"true"}');
    expect((await t.req("GET", "/v2/stats/leader")).text).toBe(
      '{"leader":"8e9e05c52164694d","followers":{}}',
    );
    const self = JSON.parse((await t.req("GET", "/v2/stats/self")).text);
    expect(Object.keys(self)).toEqual([
      "name",
      "id",
      "state",
      "startTime",
      "leaderInfo",
      "recvAppendRequestCnt",
      "sendAppendRequestCnt",
    ]);
    const store = JSON.parse((await t.req("GET", "/v2/stats/store")).text);
    expect(Object.keys(store)).toHaveLength(16);
    t.close();
  });

  it("members API validation and changes", async () => {
    const t = setup();
    const json = { "Content-Type": "application/json" };
    expect(
      (await t.req("POST", "/v2/members", "{}", { "Content-Type": "text/plain" } as never)).text,
    ).toBe('{"message":"Bad Content-Type text/plain, accept application/json"}');
    expect((await t.req("POST", "/v2/members", "x", json as never)).text).toBe(
      `{"message":"invalid character 'x' looking for beginning of value"}`,
    );
    expect((await t.req("POST", "/v2/members", '{"peerURLs":[]}', json as never)).text).toBe(
      '{"message":"no valid URLs given"}',
    );
    expect(
      (await t.req("POST", "/v2/members", '{"peerURLs":["ftp://h:1"]}', json as never)).text,
    ).toBe('{"message":"URL scheme must be http, https, unix, or unixs: ftp://h:1"}');
    expect(
      (await t.req("POST", "/v2/members", '{"peerURLs":["http://h"]}', json as never)).text,
    ).toBe('{"message":"URL address does not have the form \\"host:port\\": http://h"}');
    expect(
      (await t.req("POST", "/v2/members", '{"peerURLs":["http://h:1/p"]}', json as never)).text,
    ).toBe('{"message":"URL must not contain a path: http://h:1/p"}');
    const added = await t.req("POST", "/v2/members", '{"peerURLs":["http://h:1"]}', json as never);
    expect(added.status).toBe(201);
    const id = JSON.parse(added.text).id as string;
    expect(added.text).toBe(`{"id":"${id}","name":"","peerURLs":["http://h:1"],"clientURLs":[]}\n`);
    expect(
      (await t.req("POST", "/v2/members", '{"peerURLs":["http://h:1"]}', json as never)).status,
    ).toBe(409);
    expect(
      (await t.req("PUT", `/v2/members/${id}`, '{"peerURLs":["http://h:2"]}', json as never))
        .status,
    ).toBe(204);
    expect((await t.req("DELETE", `/v2/members/${id}`)).status).toBe(204);
    expect((await t.req("DELETE", `/v2/members/${id}`)).text).toBe(
      `{"message":"Member permanently removed: ${id}"}`,
    );
    expect((await t.req("DELETE", "/v2/members/zz")).text).toBe('{"message":"No such member: zz"}');
    expect((await t.req("DELETE", "/v2/members")).status).toBe(405);
    t.close();
  });
});

describe("Go JSON strings", () => {
  it("escapes like encoding/json", () => {
    expect(goString('<a>&"q"')).toBe('"\\u003ca\\u003e\\u0026\\"q\\""');
    expect(goString("a\bb\fc\u0001\u007f\u2028\u2029\n\t\\")).toBe(
      '"a\\u0008b\\u000cc\\u0001\u007f\\u2028\\u2029\\n\\t\\\\"',
    );
    expect(goString("😀é")).toBe('"😀é"');
    expect(goString("\udcff")).toBe('"\\ufffd"');
  });
});
