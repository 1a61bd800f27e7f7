/**
 * A raw HTTP/1.1 client for the conformance suite. It sends the request
 * target exactly as given (no URL normalisation, unlike fetch: `/../`, `//`,
 * `%zz` and bytes above 0x7f reach the server untouched, spec §1.1) and keeps
 * response headers as the server wrote them, so bodies and headers can be
 * compared byte for byte between etcd and Cairn.
 */
import { request as httpRequest, type IncomingMessage } from "node:http";
import { connect } from "node:net";

/** What the server answered. Header names are lowercased, in wire order. */
export interface RawResponse {
  readonly status: number;
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Buffer;
  readonly text: string;
  /**
   * False when the connection closed before the whole body arrived (a server
   * that answers without reading a large request body may reset the
   * connection while its answer is still in flight).
   */
  readonly complete?: boolean;
}

/** One request, sent verbatim. */
export interface RawRequest {
  readonly method: string;
  /** Request target, sent as is (latin1 bytes). */
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
  /** Give up after this long (default 10 s). */
  readonly timeoutMs?: number;
}

/** Returns the value of header `name` (first occurrence), if present. */
export function header(res: { headers: readonly (readonly [string, string])[] }, name: string) {
  const lower = name.toLowerCase();
  return res.headers.find(([n]) => n === lower)?.[1];
}

function pairs(msg: IncomingMessage): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < msg.rawHeaders.length; i += 2) {
    out.push([msg.rawHeaders[i]!.toLowerCase(), msg.rawHeaders[i + 1]!]);
  }
  return out;
}

/**
 * Sends one request on a fresh connection and reads the whole response. A
 * server may answer before it has read the body and close the connection
 * (Go does for bodies it ignores); the response counts, not the failed write.
 */
export async function send(baseUrl: string, req: RawRequest): Promise<RawResponse> {
  // A server that rejects an oversize body answers and closes while the
  // client still writes; the kernel's reset can then discard the answer
  // before node:http parses it. Such requests change nothing (they are
  // refused), so resending them is safe; small requests are never resent.
  const resendable = req.body !== undefined && Buffer.byteLength(req.body) > 1024 * 1024;
  for (let attempt = 1; ; attempt++) {
    try {
      return await sendOnce(baseUrl, req);
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (!resendable || attempt >= 3 || (code !== "ECONNRESET" && code !== "EPIPE")) throw error;
    }
  }
}

function sendOnce(baseUrl: string, req: RawRequest): Promise<RawResponse> {
  const url = new URL(baseUrl);
  const timeoutMs = req.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...req.headers };
    if (req.body !== undefined && headers["content-length"] === undefined) {
      headers["content-length"] = String(Buffer.byteLength(req.body));
    }
    let responded = false;
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
    };
    const r = httpRequest(
      {
        host: url.hostname,
        port: Number(url.port),
        method: req.method,
        path: req.path,
        headers,
        agent: false,
      },
      (res) => {
        responded = true;
        const chunks: Buffer[] = [];
        const done = () => {
          const body = Buffer.concat(chunks);
          settle(() =>
            resolve({
              status: res.statusCode ?? 0,
              headers: pairs(res),
              body,
              text: body.toString("utf8"),
              complete: res.complete,
            }),
          );
        };
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", done);
        res.on("error", done);
        res.on("close", done);
      },
    );
    const timer = setTimeout(() => {
      r.destroy(
        new Error(`${req.method} ${req.path}: no complete response within ${timeoutMs} ms`),
      );
    }, timeoutMs);
    r.on("error", (e) => {
      if (!responded) settle(() => reject(e));
    });
    if (req.body !== undefined) r.write(req.body);
    r.end();
  });
}

/** A response whose body is still arriving (watches, spec §7). */
export interface StreamingResponse {
  readonly status: number;
  readonly headers: readonly (readonly [string, string])[];
  /** Everything received so far. */
  received(): string;
  /** Resolves when `predicate(received)` holds, or rejects after `timeoutMs`. */
  until(predicate: (text: string) => boolean, timeoutMs: number): Promise<string>;
  /** Resolves with the whole body once the server ends it, or rejects after `timeoutMs`. */
  end(timeoutMs: number): Promise<string>;
  /** True once the server ended the body. */
  ended(): boolean;
  /** Drops the connection (as a client that stops watching). */
  close(): void;
}

/** Sends a request and resolves as soon as the status line and headers arrive. */
export function open(baseUrl: string, req: RawRequest): Promise<StreamingResponse> {
  const url = new URL(baseUrl);
  const timeoutMs = req.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const r = httpRequest(
      {
        host: url.hostname,
        port: Number(url.port),
        method: req.method,
        path: req.path,
        headers: req.headers,
        agent: false,
      },
      (res) => {
        clearTimeout(timer);
        let text = "";
        let done = false;
        const waiters = new Set<() => void>();
        const wake = () => {
          for (const w of [...waiters]) w();
        };
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          text += c;
          wake();
        });
        const finish = () => {
          done = true;
          wake();
        };
        res.on("end", finish);
        res.on("close", finish);
        res.on("error", finish);
        const until = (predicate: (t: string) => boolean, ms: number) =>
          new Promise<string>((ok, fail) => {
            const check = () => {
              if (predicate(text)) {
                cleanup();
                ok(text);
              } else if (done) {
                cleanup();
                fail(
                  new Error(`${req.method} ${req.path}: body ended early: ${JSON.stringify(text)}`),
                );
              }
            };
            const t = setTimeout(() => {
              cleanup();
              fail(
                new Error(
                  `${req.method} ${req.path}: timed out after ${ms} ms; got ${JSON.stringify(text)}`,
                ),
              );
            }, ms);
            const cleanup = () => {
              clearTimeout(t);
              waiters.delete(check);
            };
            waiters.add(check);
            check();
          });
        resolve({
          status: res.statusCode ?? 0,
          headers: pairs(res),
          received: () => text,
          until,
          end: (ms) => until(() => done, ms),
          ended: () => done,
          close: () => {
            r.destroy();
            res.destroy();
          },
        });
      },
    );
    const timer = setTimeout(() => {
      r.destroy(new Error(`${req.method} ${req.path}: no response head within ${timeoutMs} ms`));
    }, timeoutMs);
    r.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    if (req.body !== undefined) r.write(req.body);
    r.end();
  });
}

/**
 * Writes `bytes` on a raw TCP connection and returns what comes back until
 * the server closes or `idleMs` passes without data (`firstByteMs` before
 * the first byte: a write's answer waits for an fsync, which a starved host
 * can stretch past a second). For requests node:http refuses to build (bad
 * request lines, invalid header bytes).
 */
export function sendBytes(
  baseUrl: string,
  bytes: Buffer,
  idleMs = 1_000,
  firstByteMs = idleMs,
): Promise<Buffer> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: url.hostname, port: Number(url.port) });
    const chunks: Buffer[] = [];
    let timer = setTimeout(() => socket.destroy(), firstByteMs);
    socket.on("connect", () => socket.write(bytes));
    socket.on("data", (c: Buffer) => {
      chunks.push(c);
      clearTimeout(timer);
      timer = setTimeout(() => socket.destroy(), idleMs);
    });
    socket.on("error", (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (e.code === "ECONNRESET" || e.code === "EPIPE") resolve(Buffer.concat(chunks));
      else reject(e);
    });
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
  });
}
