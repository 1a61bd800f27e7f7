import { connect, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createKvApi } from "../app.js";
import { createKeysRoute } from "../keys-route.js";
import { LocalBackend } from "../local-backend.js";
import { parseDirect } from "./direct.js";
import { type GoLikeServer, serveLikeGo } from "./serve.js";

/** A v2 API over a fresh in-memory store, served directly or through node:http only. */
async function serve(
  direct: boolean,
): Promise<{ port: number; backend: LocalBackend; viaHttp: () => number }> {
  // A fixed clock: TTL answers are the same on both servers. No expiry
  // sweep: each one takes a raft index, and X-Raft-Index must not depend on
  // how long the script ran.
  const clock = () => 1_700_000_000_000_000;
  const backend = new LocalBackend({ clock, sweepIntervalMs: 2 ** 31 - 1 });
  const app = createKvApi(backend, { clock });
  const s = await serveLikeGo((req, env) => app.fetch(req, env), {
    keys: createKeysRoute(backend, { clock }),
    direct,
  });
  servers.push(s);
  closers.push(() => backend.close());
  // Requests node:http took, parsed or refused by its parser (direct
  // answers never reach it).
  let parsed = 0;
  const count = () => {
    parsed++;
  };
  s.server.on("request", count);
  s.server.on("clientError", count);
  return { port: s.port, backend, viaHttp: () => parsed };
}

const servers: GoLikeServer[] = [];
const closers: (() => void)[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  for (const close of closers.splice(0)) close();
});

/** A client connection that reads everything the server writes. */
class Conn {
  readonly socket: Socket;
  out = "";
  closed = false;
  #waiters: (() => void)[] = [];

  /** `halfOpen`: the client's side stays open when the server ends its own. */
  constructor(port: number, halfOpen = false) {
    this.socket = connect({ port, host: "127.0.0.1", allowHalfOpen: halfOpen });
    this.socket.setEncoding("latin1");
    this.socket.on("data", (d: string) => {
      this.out += d;
      this.#wake();
    });
    this.socket.on("close", () => {
      this.closed = true;
      this.#wake();
    });
    this.socket.on("error", () => {});
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  send(text: string): void {
    this.socket.write(Buffer.from(text, "utf8"));
  }

  /** Waits (at most 3 s) until `done(out)` holds or the connection closes. */
  async until(done: (out: string) => boolean): Promise<string> {
    const deadline = Date.now() + 3_000;
    while (!done(this.out) && !this.closed && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.out;
  }

  /** Waits for `n` whole answers (Content-Length or chunked framing). */
  answers(n: number): Promise<string> {
    return this.until((out) => splitAnswers(out).length >= n);
  }
}

/** Splits a stream of HTTP/1.1 answers on their framing. */
function splitAnswers(out: string): string[] {
  const answers: string[] = [];
  let rest = out;
  for (;;) {
    const headEnd = rest.indexOf("\r\n\r\n");
    if (headEnd === -1) return answers;
    const head = rest.slice(0, headEnd + 4);
    const length = /\r\nContent-Length: (\d+)\r\n/.exec(head);
    let end: number;
    if (length !== null) {
      end = head.length + Number(length[1]);
      if (rest.length < end) return answers;
    } else {
      const last = rest.indexOf("\r\n0\r\n\r\n", head.length - 2);
      if (last === -1) return answers;
      end = last + 7;
    }
    answers.push(rest.slice(0, end));
    rest = rest.slice(end);
  }
}

const dateless = (s: string) => s.replace(/\r\nDate: [^\r]+\r\n/g, "\r\nDate: -\r\n");

function request(method: string, target: string, body?: string, extra = ""): string {
  const head = `${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: test\r\n${extra}`;
  if (body === undefined) return `${head}\r\n`;
  const length = Buffer.byteLength(body);
  return `${head}Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${length}\r\n\r\n${body}`;
}

/** Requests whose answers cover the shapes the keys route writes. */
const SCRIPT = [
  request("PUT", "/v2/keys/a", "value=1"),
  request("PUT", "/v2/keys/a", "value=2"),
  request("GET", "/v2/keys/a"),
  request("GET", "/v2/keys/missing"),
  request("PUT", "/v2/keys/a?prevValue=nope", "value=3"),
  request("PUT", "/v2/keys/a", "value=x&prevIndex=abc"),
  request("POST", "/v2/keys/q", "value=job"),
  request("PUT", "/v2/keys/ttl", "value=t&ttl=100"),
  request("GET", "/v2/keys/ttl"),
  request("PUT", "/v2/keys/big", `value=${"b".repeat(3000)}`),
  request("GET", "/v2/keys/big"),
  request("PUT", "/v2/keys/utf", `value=${encodeURIComponent("é ✓ <&>")}`),
  request("GET", "/v2/keys/utf"),
  request("GET", "/v2/keys/?recursive=true&sorted=true"),
  request("DELETE", "/v2/keys/a"),
  request("GET", "/v2/keys/a?wait=true&waitIndex=4"),
  request("GET", "/v2/keys/a", undefined, "Origin: http://example.com\r\n"),
  request("GET", "/v2/keys/a", undefined, "Connection: keep-alive\r\n"),
  request("GET", "/v2/keys/a", undefined, "Connection: close\r\n"),
];

describe("direct answers (no node:http)", () => {
  /** The answers to `requests` sent one at a time, each on a new connection. */
  async function oneByOne(port: number, requests: readonly string[]): Promise<string[]> {
    const out: string[] = [];
    for (const req of requests) {
      const c = new Conn(port);
      c.send(req);
      out.push(dateless(await c.answers(1)));
      c.socket.destroy();
    }
    return out;
  }

  it("are byte for byte what node:http writes", async () => {
    const served = await serve(true);
    const direct = await oneByOne(served.port, SCRIPT);
    expect(served.viaHttp()).toBe(0);
    const reference = await serve(false);
    const viaHttp = await oneByOne(reference.port, SCRIPT);
    expect(reference.viaHttp()).toBe(SCRIPT.length);
    expect(direct.every((a) => a.startsWith("HTTP/1.1 "))).toBe(true);
    for (const [i, req] of SCRIPT.entries()) expect(direct[i], req).toBe(viaHttp[i]);
  });

  it("answer pipelined requests in order, each after the one before, as Go's server does", async () => {
    // node:http hands pipelined requests to the handler at once (a read
    // behind a write may answer first); Go reads the next request only once
    // the last one is answered, and so do direct answers.
    const requests = SCRIPT.slice(0, -1);
    const expected = await oneByOne((await serve(true)).port, requests);
    const c = new Conn((await serve(true)).port);
    c.send(requests.join(""));
    const answers = splitAnswers(dateless(await c.answers(requests.length)));
    expect(answers).toEqual(expected);
    expect(answers[2]).toContain('"value":"2"');
  });

  it("close the connection after answering `Connection: close`", async () => {
    const { port } = await serve(true);
    const c = new Conn(port);
    c.send(request("GET", "/v2/keys/none", undefined, "Connection: close\r\n"));
    c.send(request("GET", "/v2/keys/none"));
    await c.until(() => false);
    expect(c.closed).toBe(true);
    expect(splitAnswers(c.out)).toHaveLength(1);
    expect(c.out).toContain("\r\nConnection: close\r\n");
  });

  it("hand the connection to node:http at a request they do not take, answers still in order", async () => {
    const { port } = await serve(true);
    const c = new Conn(port);
    c.send(
      request("PUT", "/v2/keys/h", "value=1") +
        "HEAD /v2/keys/h HTTP/1.1\r\nHost: x\r\n\r\n" +
        request("GET", "/v2/keys/h"),
    );
    await c.until((out) => out.split("HTTP/1.1 ").length > 3 && out.endsWith("}\n"));
    const statuses = [...c.out.matchAll(/HTTP\/1\.1 (\d+)/g)].map((m) => m[1]);
    expect(statuses).toEqual(["201", "200", "200"]);
    expect(c.out).toMatch(/\{"action":"get","node":\{"key":"\/h","value":"1"[^}]*\}\}\n$/);
  });

  it("hand over a request whose body has not all arrived; node:http waits for the rest", async () => {
    const { port } = await serve(true);
    const c = new Conn(port);
    const full = request("PUT", "/v2/keys/slow", "value=late");
    c.send(full.slice(0, -4));
    await new Promise((r) => setTimeout(r, 100));
    expect(c.out).toBe("");
    c.send(full.slice(-4));
    const out = await c.answers(1);
    expect(out).toMatch(/^HTTP\/1\.1 201 Created\r\n/);
    expect(out).toContain('"value":"late"');
  });

  it("hand over chunked bodies, duplicate or folded headers and non-ASCII values to node:http", async () => {
    const served = await serve(true);
    const odd = [
      "PUT /v2/keys/c HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n7\r\nvalue=c\r\n0\r\n\r\n",
      "PUT /v2/keys/d HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Type: text/plain\r\nContent-Length: 7\r\n\r\nvalue=d",
      "GET /v2/keys/c HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  folded\r\n\r\n",
      "GET /v2/keys/c HTTP/1.1\r\nHost: x\r\nX-A: \u00e9\r\n\r\n",
      "GET /v2/keys/c HTTP/1.1\r\n\r\n",
      "GET /v2/keys/%zz HTTP/1.1\r\nHost: x\r\n\r\n",
      "get /v2/keys/c HTTP/1.1\r\nHost: x\r\n\r\n",
    ];
    const direct = await oneByOne(served.port, odd);
    expect(served.viaHttp()).toBe(odd.length);
    const viaHttp = await oneByOne((await serve(false)).port, odd);
    for (const [i, req] of odd.entries()) expect(direct[i], req).toBe(viaHttp[i]);
  });

  it("serve a long-poll watch, then the next request on the same connection", async () => {
    const { port, backend } = await serve(true);
    const c = new Conn(port);
    c.send(request("GET", "/v2/keys/w?wait=true"));
    await c.until((out) => out.includes("\r\n\r\n"));
    expect(c.out).toContain("\r\nTransfer-Encoding: chunked\r\n\r\n");
    await backend.propose({ method: "PUT", key: "/w", value: "v", time: 0 });
    await c.until((out) => out.endsWith("\r\n0\r\n\r\n"));
    expect(c.out).toContain('{"action":"set","node":{"key":"/w","value":"v"');
    c.out = "";
    c.send(request("GET", "/v2/keys/w"));
    const out = await c.answers(1);
    expect(out).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
  });

  it("stream a watch's events, and drop the watch when the client goes", async () => {
    const { port, backend } = await serve(true);
    const c = new Conn(port);
    c.send(request("GET", "/v2/keys/s?wait=true&stream=true"));
    await c.until((out) => out.includes("\r\n\r\n"));
    for (const v of ["1", "2", "3"]) {
      await backend.propose({ method: "PUT", key: "/s", value: v, time: 0 });
    }
    await c.until((out) => out.includes('"value":"3"'));
    expect([...c.out.matchAll(/"action":"set"/g)]).toHaveLength(3);
    const watched = () => backend.store.stats().watchers;
    expect(watched()).toBe(1);
    c.socket.destroy();
    const deadline = Date.now() + 2_000;
    while (watched() !== 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(watched()).toBe(0);
  });

  it("are dropped, watchers included, when the server closes", async () => {
    const { port, backend } = await serve(true);
    const c = new Conn(port);
    c.send(request("GET", "/v2/keys/w?wait=true"));
    await c.until((out) => out.includes("\r\n\r\n"));
    expect(backend.store.stats().watchers).toBe(1);
    await servers.splice(0, 1)[0]!.close();
    await c.until(() => false);
    expect(c.closed).toBe(true);
    expect(backend.store.stats().watchers).toBe(0);
  });

  it("survive a client that resets the connection while a `Connection: close` answer is written", async () => {
    const { port, backend } = await serve(true);
    await backend.propose({ method: "PUT", key: "/big", value: "v".repeat(8 << 20), time: 0 });
    const c = new Conn(port);
    c.socket.pause(); // unread bytes make the close a reset
    c.send(request("GET", "/v2/keys/big", undefined, "Connection: close\r\n"));
    await new Promise((r) => setTimeout(r, 100));
    c.socket.resetAndDestroy();
    await new Promise((r) => setTimeout(r, 100));
    // An unhandled socket error would have failed the test run; the server still answers.
    const next = new Conn(port);
    next.send(request("GET", "/v2/keys/missing"));
    expect(await next.answers(1)).toMatch(/^HTTP\/1\.1 404 Not Found\r\n/);
  });

  it("close a `Connection: close` connection whose client stays open, so close() is not held", async () => {
    const direct = await serve(true);
    const c = new Conn(direct.port, true);
    c.send(request("GET", "/v2/keys/none", undefined, "Connection: close\r\n"));
    await c.answers(1);
    const closing = servers.splice(0, 1)[0]!.close();
    const closed = await Promise.race([
      closing.then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), 2_000)),
    ]);
    expect(closed).toBe(true);
  });

  it("frame watch events above 4 KiB as node:http does", async () => {
    const direct = await serve(true);
    const viaHttp = await serve(false);
    const outs: string[] = [];
    for (const { port, backend } of [direct, viaHttp]) {
      const c = new Conn(port);
      c.send(request("GET", "/v2/keys/s?wait=true&stream=true"));
      await c.until((out) => out.includes("\r\n\r\n"));
      for (const v of ["a".repeat(5000), "b", "c".repeat(9000)]) {
        await backend.propose({ method: "PUT", key: "/s", value: v, time: 0 });
      }
      outs.push(dateless(await c.until((out) => out.includes('"value":"ccc'))));
      c.socket.destroy();
    }
    expect(outs[0]).toBe(outs[1]);
  });
});

describe("parseDirect", () => {
  const bytes = (s: string) => Buffer.from(s, "latin1");

  it("takes a whole plain request and says how many bytes it took", () => {
    const req = request("PUT", "/v2/keys/a?x=1", "value=1");
    const p = parseDirect(bytes(`${req}GET /next`));
    expect(p?.method).toBe("PUT");
    expect(p?.target).toBe("/v2/keys/a?x=1");
    expect(p?.headers.get("content-type")).toBe("application/x-www-form-urlencoded");
    expect(p?.body.toString()).toBe("value=1");
    expect(p?.length).toBe(req.length);
    expect(p?.close).toBe(false);
  });

  it("declines what node:http should parse", () => {
    const declined = [
      "GET /v2/keys/a HTTP/1.1\r\nHost: x\r\n", // not whole
      "PUT /v2/keys/a HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\nvalue", // body not whole
      "GET /v2/keys/a HTTP/1.0\r\nHost: x\r\n\r\n",
      "HEAD /v2/keys/a HTTP/1.1\r\nHost: x\r\n\r\n",
      "GET http://x/v2/keys/a HTTP/1.1\r\nHost: x\r\n\r\n",
      "GET /v2/keys/a b HTTP/1.1\r\nHost: x\r\n\r\n",
      "GET /v2/keys/a HTTP/1.1\r\n\r\n", // no Host
      "GET /v2/keys/a HTTP/1.1\r\nHost: x\r\nhost: y\r\n\r\n",
      "GET /v2/keys/a HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n\r\n",
      "GET /v2/keys/a HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n",
      "GET /v2/keys/a HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
      "GET /v2/keys/a HTTP/1.1\r\nHost: x\r\nContent-Length: 1, 1\r\n\r\nx",
      "GET /v2/keys/a HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n",
      "GET /v2/keys/a HTTP/1.1\r\nHost: x\r\nX : a\r\n\r\n",
      `GET /v2/keys/a HTTP/1.1\r\nHost: x\r\nX: ${"a".repeat(9000)}\r\n\r\n`,
    ];
    for (const text of declined) expect(parseDirect(bytes(text)), text).toBeUndefined();
  });
});
