import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { nodeStreamDialer } from "./node-stream.js";

/** A server on a free loopback port whose one route the test writes by hand. */
async function serve(route: (res: ServerResponse, headers: Record<string, unknown>) => void) {
  const server = createServer((req, res) => route(res, req.headers));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/raft/stream`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const open: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of open.splice(0)) await close();
});

function joined(chunks: Uint8Array[]): number[] {
  return chunks.flatMap((c) => [...c]);
}

describe("nodeStreamDialer", () => {
  it("hands over the body as it arrives and sends the given headers", async () => {
    let seen: Record<string, unknown> = {};
    let write!: ServerResponse;
    const s = await serve((res, headers) => {
      seen = headers;
      res.writeHead(200, { "content-type": "application/octet-stream" });
      res.write(new Uint8Array([1, 2, 3]));
      write = res;
    });
    open.push(s.close);
    const chunks: Uint8Array[] = [];
    const { status, ended } = await nodeStreamDialer(
      s.url,
      { "x-server-from": "abc" },
      new AbortController().signal,
      (c) => chunks.push(c),
    );
    expect(status).toBe(200);
    expect(seen["x-server-from"]).toBe("abc");
    // The first chunk arrives while the response is still open.
    for (let i = 0; i < 200 && chunks.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(joined(chunks)).toEqual([1, 2, 3]);
    write.end(new Uint8Array([4, 5]));
    await ended;
    expect(joined(chunks)).toEqual([1, 2, 3, 4, 5]);
  });

  it("answers the status of a refused stream without reading it", async () => {
    const s = await serve((res) => {
      res.writeHead(410, { "content-type": "text/plain" });
      res.end("the member has been permanently removed\n");
    });
    open.push(s.close);
    const chunks: Uint8Array[] = [];
    const { status, ended } = await nodeStreamDialer(s.url, {}, new AbortController().signal, (c) =>
      chunks.push(c),
    );
    expect(status).toBe(410);
    await ended;
    expect(chunks).toEqual([]);
  });

  it("ends the stream in failure when the signal aborts it", async () => {
    const s = await serve((res) => {
      res.writeHead(200);
      res.write("x");
    });
    open.push(s.close);
    const abort = new AbortController();
    const { ended } = await nodeStreamDialer(s.url, {}, abort.signal, () => {});
    abort.abort();
    await expect(ended).rejects.toThrow();
  });

  it("ends the stream in failure when the reader throws (a damaged frame)", async () => {
    const s = await serve((res) => {
      res.writeHead(200);
      res.write("x");
    });
    open.push(s.close);
    const { ended } = await nodeStreamDialer(s.url, {}, new AbortController().signal, () => {
      throw new Error("frame of 99999999 bytes is too large");
    });
    await expect(ended).rejects.toThrow("too large");
  });

  it("ends the stream in failure when the peer drops the connection mid-body", async () => {
    let response!: ServerResponse;
    const s = await serve((res) => {
      res.writeHead(200);
      res.write("x");
      response = res;
    });
    open.push(s.close);
    const { ended } = await nodeStreamDialer(s.url, {}, new AbortController().signal, () => {});
    response.socket?.destroy();
    await expect(ended).rejects.toThrow();
  });

  it("fails the dial when nothing listens", async () => {
    const s = await serve(() => {});
    const url = s.url;
    await s.close();
    await expect(
      nodeStreamDialer(url, {}, new AbortController().signal, () => {}),
    ).rejects.toThrow();
  });
});
