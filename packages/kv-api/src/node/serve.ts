/**
 * `@cairn/kv-api/node`: serves a fetch-style app (the v2 API of
 * {@link createKvApi}) on Node's `node:http` the way etcd's Go server behaves
 * at the HTTP level, where Node's server would answer differently or not at
 * all. Node-specific: library code elsewhere in this package stays on
 * Web-standard APIs; runtimes other than Node serve the app directly.
 *
 * What Go's `net/http` does that Node's does not (spec etcd-v2-api.md §1 and
 * the conformance README, "Go's server answers some requests itself"):
 * - unknown and lowercase methods (`FOO`, `get`) reach the handler (etcd: 405);
 * - raw bytes above 0x7f in the request-target reach the handler;
 * - a bad `%` escape in the path is a bare `400 Bad Request` (text body);
 * - a missing `Host` on HTTP/1.1 is `400 Bad Request: missing required Host header`;
 * - `OPTIONS *` is `200` with an empty body;
 * - HTTP/1.0 requests get an `HTTP/1.0` status line;
 * - header blocks up to 1 MiB + 4 KiB are accepted, larger ones get 431;
 * - and, from etcd's listener rather than Go's server: etcd's client port is a
 *   cmux that hands a connection to the HTTP server only when its first
 *   request line reads as HTTP/1.x within 4096 bytes; any other connection is
 *   closed without an answer (see {@link cmuxHttp1}).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createTcpServer, type Socket } from "node:net";
import { getRequestListener } from "@hono/node-server";
import { canonicalHeaderKey } from "../app.js";
import { boundedOutput, type KeysAnswer } from "../keys.js";
import { type KeysRoute, routeTakesBody } from "../keys-route.js";
import { type HandOff, serveDirect } from "./direct.js";

/**
 * The handler served: a Web-standard fetch function. `env` is what
 * `@hono/node-server` passes (`{ incoming, outgoing }`); the v2 app reads the
 * raw request-target from `incoming.url` (Node's own, unnormalised).
 */
export type GoServeFetch = (request: Request, env?: unknown) => Response | Promise<Response>;

/** Where {@link serveLikeGo} listens. */
export interface GoServeOptions {
  /** Interface to bind (default `127.0.0.1`). */
  readonly hostname?: string;
  /** TCP port; 0 (the default) lets the kernel pick a free one. */
  readonly port?: number;
  /**
   * The app's `/v2/keys` route without the framework ({@link KeysRoute}):
   * plain key requests are answered through it straight onto the socket;
   * whatever it declines goes to `fetch`.
   */
  readonly keys?: KeysRoute;
  /**
   * Answer plain key requests on the connection itself rather than through
   * node:http (see direct.ts); the same bytes, less CPU. Default true; only
   * with `keys`.
   */
  readonly direct?: boolean;
}

/** A server started by {@link serveLikeGo}. */
export interface GoLikeServer {
  /**
   * The Node HTTP server the accepted connections are handed to (it does not
   * listen itself: a TCP server in front sniffs each connection first).
   */
  readonly server: Server;
  /** The port actually bound (useful with `port: 0`). */
  readonly port: number;
  /** Stops accepting connections, drops the open ones (watchers included) and resolves once closed. */
  close(): Promise<void>;
}

/** Go's `%XX` check of a request-target path: a bad escape is a bare 400 from Go's server. */
function hasBadEscape(target: string): boolean {
  const q = target.indexOf("?");
  const path = q === -1 ? target : target.slice(0, q);
  return /%(?![0-9A-Fa-f]{2})/.test(path);
}

function raw(socket: Socket, text: string): void {
  if (socket.writable) socket.end(Buffer.from(text, "latin1"));
  else socket.destroy();
}

async function writeRaw(socket: Socket, res: Response): Promise<void> {
  const body = Buffer.from(await res.arrayBuffer());
  let head = `HTTP/1.1 ${res.status} ${res.statusText || STATUS_TEXT[res.status] || ""}\r\n`;
  res.headers.forEach((v, k) => {
    if (k !== "content-length" && k !== "connection" && k !== "date") {
      head += `${canonicalHeaderKey(k)}: ${v}\r\n`;
    }
  });
  head += `Date: ${new Date().toUTCString()}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
  if (socket.writable) socket.end(Buffer.concat([Buffer.from(head, "latin1"), body]));
  else socket.destroy();
}

const STATUS_TEXT: Record<number, string> = {
  200: "OK",
  201: "Created",
  301: "Moved Permanently",
  400: "Bad Request",
  404: "Not Found",
  405: "Method Not Allowed",
  412: "Precondition Failed",
};

const MAX_BODY = (10 << 20) + 1;

/** The whole body of a request (the keys route asks only for bounded ones). */
function readBody(req: IncomingMessage): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.on("error", reject);
    // A client that leaves mid-body: nothing will come.
    req.on("close", () => {
      if (!req.complete)
        reject(new Error("the client closed the connection before its body ended"));
    });
  });
}

/**
 * Writes a keys answer the way `@hono/node-server` writes the app's
 * Response, byte for byte: the headers in the answer's order, then Node's
 * `Date`, `Connection` and `Keep-Alive`, then `Content-Length` (set through
 * node:http's own length field, as node-server does). A body over Go's
 * 2048-byte buffer goes chunked, as Go sends it.
 */
function writeAnswer(res: ServerResponse, answer: KeysAnswer): void {
  const watch = answer.watch;
  if (watch !== undefined) {
    res.writeHead(answer.status, answer.headers);
    res.flushHeaders();
    res.on("close", () => watch.cancel());
    watch.attach(
      boundedOutput(
        (bytes, flushed) => res.write(bytes, flushed),
        (last) => (last === undefined ? res.end() : res.end(last)),
      ),
    );
    return;
  }
  const body = answer.body;
  if (body === null) {
    res.writeHead(answer.status, answer.headers);
    res.end();
    return;
  }
  const length = Buffer.byteLength(body);
  const lengthField = res as unknown as { _contentLength: number | null };
  if (length <= 2048 && lengthField._contentLength === null) lengthField._contentLength = length;
  res.writeHead(answer.status, answer.headers);
  res.end(body);
}

/**
 * Answers a request through the keys route when it serves it; false when
 * the request is for the app.
 */
function serveKeys(route: KeysRoute, req: IncomingMessage, res: ServerResponse): boolean {
  const headers = req.headers;
  if (req.httpVersion !== "1.1") return false;
  if (!routeTakesBody(headers["transfer-encoding"], headers["content-length"])) return false;
  const pending = route({
    method: req.method ?? "",
    target: req.url ?? "",
    header: (name) => {
      const v = headers[name];
      return Array.isArray(v) ? v.join(", ") : v;
    },
    bodyBytes: () => readBody(req),
  });
  if (pending === undefined) return false;
  // The route answers its own errors: a failure here is the socket's.
  pending.then((answer) => writeAnswer(res, answer)).catch(() => res.destroy());
  return true;
}

/** Methods the Fetch standard forbids in a `Request` (compared upper-cased). */
const FETCH_FORBIDDEN_METHODS = new Set(["CONNECT", "TRACE", "TRACK"]);

/** Sockets whose rejected request is still receiving its body. */
const bodies = new WeakMap<Socket, { add(chunk: Buffer): void }>();

/** The first `length` body bytes, or undefined if they do not arrive within 5 s. */
function collectBody(socket: Socket, start: Buffer, length: number): Promise<Buffer | undefined> {
  if (start.length >= length) {
    bodies.set(socket, { add() {} }); // later chunks belong to this request too
    return Promise.resolve(start.subarray(0, length));
  }
  return new Promise((resolve) => {
    const chunks = [start];
    let have = start.length;
    const finish = (ok: boolean) => {
      clearTimeout(timer);
      resolve(ok ? Buffer.concat(chunks).subarray(0, length) : undefined);
    };
    const timer = setTimeout(() => finish(false), 5_000);
    bodies.set(socket, {
      add(chunk) {
        if (have >= length) return; // the rest is ignored, as Go stops reading
        chunks.push(chunk);
        have += chunk.length;
        if (have >= length) finish(true);
      },
    });
  });
}

/**
 * Node's HTTP parser rejects some requests that Go's server hands to its
 * handlers: unknown methods (`FOO`, answered 405 by etcd) and raw bytes
 * above 0x7f in the request-target. This parses such a request from the raw
 * packet and answers it through the app, so it gets etcd's bytes too.
 */
function answerParserRejects(server: Server, fetch: GoServeFetch): void {
  server.on(
    "clientError",
    (err: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Socket) => {
      // After a parse error Node keeps feeding the socket's later chunks to
      // the failed parser, one clientError each: they are the body.
      const pending = bodies.get(socket);
      if (pending !== undefined) {
        pending.add(err.rawPacket ?? Buffer.alloc(0));
        return;
      }
      const packet = err.rawPacket?.toString("latin1") ?? "";
      const headEnd = packet.indexOf("\r\n\r\n");
      const line = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) (\S+) HTTP\/1\.[01]\r\n/.exec(packet);
      if (err.code === "HPE_HEADER_OVERFLOW") {
        raw(
          socket,
          "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n431 Request Header Fields Too Large",
        );
        return;
      }
      if (
        (err.code !== "HPE_INVALID_METHOD" && err.code !== "HPE_INVALID_URL") ||
        line === null ||
        headEnd === -1
      ) {
        raw(socket, "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
        return;
      }
      const method = line[1]!;
      const target = line[2]!;
      if (hasBadEscape(target)) {
        raw(
          socket,
          "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request",
        );
        return;
      }
      const headers = new Headers();
      for (const h of packet.slice(line[0].length, headEnd).split("\r\n")) {
        const colon = h.indexOf(":");
        if (colon > 0) {
          try {
            headers.append(h.slice(0, colon).trim(), h.slice(colon + 1).trim());
          } catch {
            // a header value fetch refuses: leave it out
          }
        }
      }
      // Go reads at most 10 MiB + 1 of a form; that much decides the answer.
      const length = Math.min(Number(headers.get("content-length") ?? "0") || 0, MAX_BODY);
      void collectBody(socket, err.rawPacket!.subarray(headEnd + 4), length).then((bodyBytes) => {
        if (bodyBytes === undefined) {
          raw(socket, "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
          return;
        }
        answer(bodyBytes);
      });
      const answer = (bodyBytes: Buffer) => {
        // Fetch refuses CONNECT, TRACE and TRACK in a Request; Go hands them
        // to etcd (405). Like @hono/node-server, build such a request as a
        // bodiless GET that reports its real method (the app reads the
        // method from `incoming` anyway).
        const forbidden = FETCH_FORBIDDEN_METHODS.has(method.toUpperCase());
        const init: RequestInit = { method: forbidden ? "GET" : method, headers };
        if (!forbidden && method !== "GET" && method !== "HEAD" && bodyBytes.length > 0) {
          init.body = bodyBytes;
        }
        let request: Request;
        try {
          request = new Request(
            `http://127.0.0.1${encodeURI(target.replace(/[^\x20-\x7e]/g, "_"))}`,
            init,
          );
          if (forbidden) Object.defineProperty(request, "method", { get: () => method });
        } catch {
          raw(socket, "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
          return;
        }
        void Promise.resolve(fetch(request, { incoming: { url: target, method } }))
          .then((res) => writeRaw(socket, res))
          .catch(() => socket.destroy());
      };
    },
  );
}

/**
 * Go's server answers a few requests before any handler runs; Node's would
 * pass them on (or fail differently). Returns true when it answered.
 */
function goServerPreamble(req: IncomingMessage, res: ServerResponse): boolean {
  const url = req.url ?? "";
  if (req.httpVersion === "1.1" && req.headers.host === undefined) {
    raw(
      req.socket,
      "HTTP/1.1 400 Bad Request: missing required Host header\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request: missing required Host header",
    );
    return true;
  }
  if (url === "*" && req.method === "OPTIONS") {
    res.writeHead(200, { "Content-Length": "0" });
    res.end();
    return true;
  }
  if (url.startsWith("/") && hasBadEscape(url)) {
    raw(
      req.socket,
      "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request",
    );
    return true;
  }
  return false;
}

/**
 * Go answers an HTTP/1.0 request with an `HTTP/1.0` status line; Node always
 * writes `HTTP/1.1`. Rewrites the status line of the next response on this
 * socket.
 */
function answerAsHttp10(socket: Socket): void {
  const write = socket.write;
  const fix = (chunk: unknown): unknown => {
    if (typeof chunk === "string" && chunk.startsWith("HTTP/1.1 "))
      return `HTTP/1.0 ${chunk.slice(9)}`;
    if (Buffer.isBuffer(chunk) && chunk.subarray(0, 9).toString("latin1") === "HTTP/1.1 ") {
      const copy = Buffer.from(chunk);
      copy.write("HTTP/1.0 ", 0, "latin1");
      return copy;
    }
    return chunk;
  };
  socket.write = function patched(this: Socket, chunk: unknown, ...rest: unknown[]) {
    socket.write = write;
    return (write as (...a: unknown[]) => boolean).call(this, fix(chunk), ...rest);
  } as typeof socket.write;
}

/** cmux's read limit for its HTTP/1 matcher (`maxHTTPRead`), CRLF included. */
const CMUX_MAX_LINE = 4096;

/**
 * How long a connection may take to send its first request line. etcd's
 * cmux waits without limit; Cairn bounds it so idle sockets cannot pile up.
 */
const SNIFF_TIMEOUT_MS = 60_000;

/**
 * etcd 3.4's client listener is `cmux` with an HTTP/2 (gRPC) and an HTTP/1
 * matcher: a connection goes to the HTTP server only if its first line, read
 * through a 4096-byte buffer, splits as `method SP target SP proto` with
 * `proto` an `HTTP/1.x` version; otherwise cmux closes it, answering nothing
 * (over-long request lines, `HTTP/9.9`, a double space, garbage). Only the
 * first request of a connection is sniffed. `wait` means: not decided yet.
 */
export function cmuxHttp1(first: Uint8Array): "accept" | "reject" | "wait" {
  const nl = first.indexOf(0x0a);
  if (nl === -1) return first.length >= CMUX_MAX_LINE ? "reject" : "wait";
  if (nl + 1 > CMUX_MAX_LINE) return "reject";
  let line = Buffer.from(first.buffer, first.byteOffset, nl).toString("latin1");
  if (line.endsWith("\r")) line = line.slice(0, -1);
  const s1 = line.indexOf(" ");
  if (s1 < 0) return "reject";
  const s2 = line.indexOf(" ", s1 + 1);
  if (s2 < 0) return "reject";
  // Go's http.ParseHTTPVersion: exactly "HTTP/X.Y" with one digit each; cmux wants major 1.
  return /^HTTP\/1\.[0-9]$/.test(line.slice(s2 + 1)) ? "accept" : "reject";
}

/** Hands a connection to node:http with the bytes read from it so far put back. */
function toHttp(http: Server): HandOff {
  return (socket, unread) => {
    socket.pause();
    if (unread.length > 0) socket.unshift(unread);
    http.emit("connection", socket);
    socket.resume();
  };
}

/**
 * Reads a new connection's first bytes until {@link cmuxHttp1} decides, then
 * hands it (bytes put back) to `accept` or closes it.
 */
function sniff(
  socket: Socket,
  accept: (socket: Socket, seen: Buffer) => void,
  sniffing: Set<Socket>,
): void {
  sniffing.add(socket);
  let seen: Buffer = Buffer.alloc(0);
  const finish = () => {
    clearTimeout(timer);
    sniffing.delete(socket);
    socket.off("data", onData);
    socket.off("end", drop);
    socket.off("error", drop);
  };
  const drop = () => {
    finish();
    socket.destroy();
  };
  const timer = setTimeout(drop, SNIFF_TIMEOUT_MS);
  const onData = (chunk: Buffer) => {
    seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
    const verdict = cmuxHttp1(seen);
    if (verdict === "wait") return;
    if (verdict === "reject") {
      drop();
      return;
    }
    finish();
    accept(socket, seen);
  };
  socket.on("data", onData);
  socket.on("end", drop);
  socket.on("error", drop);
  socket.resume();
}

/**
 * Serves `fetch` on Node the way etcd's Go server behaves at the HTTP level
 * where Node differs (see the module comment). Rejects when the address
 * cannot be bound (e.g. `EADDRINUSE`).
 */
export async function serveLikeGo(
  fetch: GoServeFetch,
  options: GoServeOptions = {},
): Promise<GoLikeServer> {
  const hostname = options.hostname ?? "127.0.0.1";
  const listener = getRequestListener((req, env) => fetch(req, env), { hostname });
  const keys = options.keys;
  // Node answers a missing Host itself unless told not to (Go's answer
  // differs), and accepts 16 KiB of headers where Go accepts 1 MiB + 4 KiB.
  const server = createServer(
    { requireHostHeader: false, maxHeaderSize: (1 << 20) + 4096 },
    (req, res) => {
      if (goServerPreamble(req, res)) return;
      if (keys !== undefined && serveKeys(keys, req, res)) return;
      if (req.httpVersion === "1.0") answerAsHttp10(req.socket);
      void listener(req, res);
    },
  );
  answerParserRejects(server, fetch);
  // Go's server (etcd sets no IdleTimeout) keeps an idle keep-alive
  // connection open until the client closes it; Node's closes it after 5 s,
  // and a client that reuses it just then (a pooled connection, a busy
  // client) has its request reset mid-flight.
  server.keepAliveTimeout = 0;
  // The listening socket is a plain TCP server in front (etcd's cmux); the
  // HTTP server gets the connections it accepts.
  const sniffing = new Set<Socket>();
  const toServer = toHttp(server);
  const direct = new Set<Socket>();
  const accept: (socket: Socket, seen: Buffer) => void =
    keys !== undefined && options.direct !== false
      ? (socket, seen) => serveDirect(socket, seen, keys, toServer, direct)
      : toServer;
  // noDelay as node:http sets it on the sockets it accepts itself: without it
  // a response written in two pieces waits out the client's delayed ACK
  // (Nagle), about 40 ms per request on a keep-alive connection.
  const front = createTcpServer({ pauseOnConnect: true, noDelay: true }, (socket) =>
    sniff(socket, accept, sniffing),
  );
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    front.once("error", onError);
    front.listen(options.port ?? 0, hostname, () => {
      front.off("error", onError);
      resolve();
    });
  });
  const address = front.address();
  if (address === null || typeof address === "string") {
    front.close();
    throw new Error(`serveLikeGo: ${hostname} has no TCP address`);
  }
  // node:http sets up its connection list (closeAllConnections) and its
  // header/request timeout checks when it starts listening; it listens
  // through the front server here, so it is told.
  server.emit("listening");
  return {
    server,
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        front.close(() => resolve());
        for (const socket of sniffing) socket.destroy();
        sniffing.clear();
        for (const socket of direct) socket.destroy();
        direct.clear();
        server.closeAllConnections();
        server.close(); // stops node:http's timeout checks (it never listened itself)
      }),
  };
}
