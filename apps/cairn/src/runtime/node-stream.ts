import { request } from "node:http";
import { fetchStreamDialer, type StreamDialer } from "@cairn/server";

const viaFetch = fetchStreamDialer((input, init) => fetch(input, init));

/**
 * Reads a peer's stream of raft messages with node:http. Node's fetch
 * (undici) passes every chunk through a Web ReadableStream, a promise per
 * read, and its own parser; here a chunk goes from the socket's data event
 * straight to `onData`. A write crosses two of these hops (the append out, its
 * acknowledgement back), so the cost is paid twice on its latency. Anything
 * but plain http goes through fetch, as before.
 */
export const nodeStreamDialer: StreamDialer = (url, headers, signal, onData) => {
  if (!url.startsWith("http:")) return viaFetch(url, headers, signal, onData);
  return new Promise((resolve, reject) => {
    // Until the head is in, a failure fails the dial; after it, the stream.
    let fail: (error: Error) => void = reject;
    // A connection of its own: the stream holds it for as long as it lives.
    const req = request(url, { headers, signal, agent: false });
    req.setNoDelay(true);
    req.on("error", (error) => fail(error));
    req.once("response", (res) => {
      res.on("error", (error) => fail(error));
      if (res.statusCode !== 200) {
        fail = () => {};
        res.resume();
        req.destroy();
        resolve({ status: res.statusCode ?? 0, ended: Promise.resolve() });
        return;
      }
      const ended = new Promise<void>((endOk, endFail) => {
        fail = endFail;
        res.on("data", (chunk: Uint8Array) => {
          try {
            onData(chunk);
          } catch (error) {
            req.destroy(error instanceof Error ? error : new Error(String(error)));
          }
        });
        res.once("end", endOk);
        // Closed without an end: the peer or this member dropped the connection.
        res.once("close", () => endFail(new Error("peer stream closed")));
      });
      resolve({ status: 200, ended });
    });
    req.end();
  });
};
