import { connect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { cmuxHttp1, type GoLikeServer, serveLikeGo } from "./serve.js";

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

  it("keeps an idle keep-alive connection open past Node's 5 s, as Go's server does", async () => {
    const s = await serveLikeGo(app);
    servers.push(s);
    const socket = connect(s.port, "127.0.0.1");
    socket.setEncoding("latin1");
    let out = "";
    let closed = false;
    socket.on("data", (d: string) => {
      out += d;
    });
    socket.on("close", () => {
      closed = true;
    });
    const answers = () => out.split("HTTP/1.1 200 OK").length - 1;
    const until = async (n: number) => {
      for (let i = 0; i < 300 && answers() < n; i++) await new Promise((r) => setTimeout(r, 10));
    };
    socket.write("GET /first HTTP/1.1\r\nHost: a\r\n\r\n");
    await until(1);
    await new Promise((r) => setTimeout(r, 6_000));
    expect(closed).toBe(false);
    socket.write("GET /second HTTP/1.1\r\nHost: a\r\n\r\n");
    await until(2);
    socket.destroy();
    expect(answers()).toBe(2);
    expect(seen).toEqual(["GET /first", "GET /second"]);
  }, 15_000);

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

describe("cmuxHttp1 (etcd's client-port connection matcher)", () => {
  const line = (n: number) => {
    const start = "GET /v2/keys/";
    const end = " HTTP/1.1\r\n";
    return Buffer.from(start + "a".repeat(n - start.length - end.length) + end);
  };

  it("accepts HTTP/1.x request lines up to 4096 bytes, CRLF included", () => {
    expect(cmuxHttp1(line(4096))).toBe("accept");
    expect(cmuxHttp1(Buffer.from("GET / HTTP/1.0\n"))).toBe("accept");
    expect(cmuxHttp1(Buffer.from("FOO /x HTTP/1.2\r\nHost: x\r\n\r\n"))).toBe("accept");
  });

  it("rejects longer lines, other versions, malformed lines; waits for a partial line", () => {
    expect(cmuxHttp1(line(4097))).toBe("reject");
    expect(cmuxHttp1(Buffer.alloc(4096, 0x61))).toBe("reject");
    expect(cmuxHttp1(Buffer.from("GET / HTTP/9.9\r\n"))).toBe("reject");
    expect(cmuxHttp1(Buffer.from("GET  /x HTTP/1.1\r\n"))).toBe("reject");
    expect(cmuxHttp1(Buffer.from("GET /x\r\n"))).toBe("reject");
    expect(cmuxHttp1(Buffer.from("GET /x HTTP/1.1"))).toBe("wait");
  });
});

describe("serveLikeGo's cmux front", () => {
  it("closes a connection whose first line cmux would not match, answering nothing", async () => {
    const s = await serveLikeGo(app);
    try {
      expect(await rawExchange(s.port, "GET /x HTTP/9.9\r\nHost: a\r\n\r\n")).toBe("");
      const long = `GET /${"a".repeat(5000)} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`;
      expect(await rawExchange(s.port, long).catch(() => "")).toBe("");
      const ok = `GET /${"a".repeat(4000)} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`;
      expect(await rawExchange(s.port, ok)).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    } finally {
      await s.close();
    }
  });
});
