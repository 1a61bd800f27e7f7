import { connect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { type GoLikeServer, serveLikeGo } from "./serve.js";

/** Sends raw bytes and resolves with everything the server wrote before closing. */
function rawExchange(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let out = "";
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(out);
    }, 3_000);
    socket.setEncoding("latin1");
    socket.on("data", (d: string) => {
      out += d;
    });
    socket.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(out);
    });
    socket.write(Buffer.from(bytes, "latin1"));
  });
}

const seen: string[] = [];
const app = (req: Request) => {
  seen.push(`${req.method} ${new URL(req.url).pathname}`);
  return new Response("hello", { status: 200, headers: { "content-type": "text/plain" } });
};

describe("serveLikeGo", () => {
  const servers: GoLikeServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
    seen.length = 0;
  });

  it("hands an unknown method to the app, as Go's server does (Node's parser rejects it)", async () => {
    const s = await serveLikeGo(app);
    servers.push(s);
    const out = await rawExchange(
      s.port,
      "FOO /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    );
    expect(out).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(out.endsWith("\r\n\r\nhello")).toBe(true);
    expect(seen).toEqual(["FOO /x"]);
  });

  it("answers Go's own 400s without calling the app", async () => {
    const s = await serveLikeGo(app);
    servers.push(s);
    const noHost = await rawExchange(s.port, "GET /x HTTP/1.1\r\n\r\n");
    expect(noHost).toMatch(/^HTTP\/1\.1 400 Bad Request: missing required Host header\r\n/);
    const badEscape = await rawExchange(s.port, "GET /a%zz HTTP/1.1\r\nHost: a\r\n\r\n");
    expect(badEscape).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(badEscape.endsWith("\r\n\r\n400 Bad Request")).toBe(true);
    expect(seen).toEqual([]);
  });

  it("answers an HTTP/1.0 request with an HTTP/1.0 status line", async () => {
    const s = await serveLikeGo(app);
    servers.push(s);
    const out = await rawExchange(s.port, "GET /x HTTP/1.0\r\nHost: a\r\n\r\n");
    expect(out).toMatch(/^HTTP\/1\.0 200 OK\r\n/);
  });

  it("reads header blocks over Node's 16 KiB default", async () => {
    const s = await serveLikeGo(app);
    servers.push(s);
    const big = "x".repeat(64 * 1024);
    const out = await rawExchange(
      s.port,
      `GET /x HTTP/1.1\r\nHost: a\r\nX-Big: ${big}\r\nConnection: close\r\n\r\n`,
    );
    expect(out).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
  });

  it("binds the port asked for and rejects one already in use", async () => {
    const first = await serveLikeGo(app);
    servers.push(first);
    await expect(serveLikeGo(app, { port: first.port })).rejects.toMatchObject({
      code: "EADDRINUSE",
    });
    const res = await fetch(`http://127.0.0.1:${first.port}/y`);
    expect(await res.text()).toBe("hello");
  });
});
