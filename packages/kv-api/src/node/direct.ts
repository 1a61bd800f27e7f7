/**
 * Plain key requests answered on the connection itself, without node:http.
 *
 * node:http spends more CPU on a request than the v2 API does: its parser
 * callbacks, an IncomingMessage and a ServerResponse with their streams,
 * header validation, corking and finish events. A GET on one member cost
 * 35–40 µs of CPU through it against 25–29 µs read and written here (a bare
 * node:http handler answering a constant costs 26–30 µs), and a Node member
 * serves on one core. So a connection the cmux front accepts
 * starts here: each request that arrives whole, in the plain HTTP/1.1 shape
 * that wrk, curl, etcdctl and fetch send, and that the keys route serves,
 * is parsed, routed and answered here, with the bytes node:http would have
 * written ({@link writeAnswer} in serve.ts is the reference, and a test
 * holds the two to the same bytes).
 *
 * Anything else hands the connection, from that request on, to node:http,
 * which keeps it: a request not yet whole in what has arrived, another
 * HTTP version, a method or target the route does not take, a header block
 * over {@link MAX_HEAD} bytes, a header line in any but the plain
 * `name: value` form, a repeated header, `Transfer-Encoding`, `Expect`,
 * `Upgrade` or a `Connection` other than `keep-alive`/`close`, no `Host`, a
 * body over {@link MAX_BODY}. Framing is decided by one `Content-Length` of
 * digits or none, so the two parsers cannot disagree about where a request
 * ends. Requests are answered one at a time and in order, as Go does.
 */
import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import { boundedOutput, type KeysAnswer, type KeysWatch } from "../keys.js";
import type { KeysCall, KeysRoute } from "../keys-route.js";

/** The largest header block read here (requests are small; node:http takes 1 MiB + 4 KiB). */
const MAX_HEAD = 8192;
/** The largest body read here. */
const MAX_BODY = 1 << 20;
/** Unread bytes held while an answer is pending before the socket stops reading. */
const MAX_HELD = 64 * 1024;
/** Go's response buffer: a longer body goes chunked (see writeAnswer in serve.ts). */
const MAX_PLAIN_BODY = 2048;

const EMPTY = Buffer.alloc(0);

/** `METHOD SP origin-form SP HTTP/1.1`: the methods the route takes, a target of URI characters. */
const REQUEST_LINE = /^(GET|PUT|POST|DELETE) (\/[A-Za-z0-9\-._~!$&'()*+,;=:@/%?]*) HTTP\/1\.1$/;
/** `name: value`, a token name and a value of visible ASCII, spaces and tabs. */
const HEADER_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*([\t\x20-\x7e]*?)[ \t]*$/;
/** Headers whose presence means node:http should frame or answer the request. */
const HANDED_OFF = new Set(["transfer-encoding", "expect", "upgrade"]);

/** A whole request parsed from the head of the received bytes. */
interface Parsed {
  readonly method: string;
  readonly target: string;
  readonly headers: Map<string, string>;
  /** The body (a copy): the received buffer goes on to later requests. */
  readonly body: Buffer;
  /** Bytes the request took. */
  readonly length: number;
  /** `Connection: close`: answer, then close. */
  readonly close: boolean;
}

/**
 * The request at the start of `bytes` when it is whole and plain (see the
 * module comment); undefined otherwise.
 */
export function parseDirect(bytes: Buffer): Parsed | undefined {
  const end = bytes.indexOf("\r\n\r\n", 0, "latin1");
  if (end === -1 || end > MAX_HEAD) return undefined;
  const lines = bytes.toString("latin1", 0, end).split("\r\n");
  const line = REQUEST_LINE.exec(lines[0]!);
  if (line === null) return undefined;
  const headers = new Map<string, string>();
  for (let i = 1; i < lines.length; i++) {
    const h = HEADER_LINE.exec(lines[i]!);
    if (h === null) return undefined;
    const name = h[1]!.toLowerCase();
    if (headers.has(name) || HANDED_OFF.has(name)) return undefined;
    headers.set(name, h[2]!);
  }
  if (!headers.has("host")) return undefined;
  let close = false;
  const connection = headers.get("connection");
  if (connection !== undefined) {
    const c = connection.toLowerCase();
    if (c === "close") close = true;
    else if (c !== "keep-alive") return undefined;
  }
  let size = 0;
  const declared = headers.get("content-length");
  if (declared !== undefined) {
    if (!/^[0-9]{1,7}$/.test(declared)) return undefined;
    size = Number(declared);
    if (size > MAX_BODY) return undefined;
  }
  const start = end + 4;
  if (bytes.length < start + size) return undefined;
  return {
    method: line[1]!,
    target: line[2]!,
    headers,
    body: size === 0 ? EMPTY : Buffer.from(bytes.subarray(start, start + size)),
    length: start + size,
    close,
  };
}

/** node:http's `Date` value, made once a second as node:http does. */
let dateSecond = -1;
let dateText = "";
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(now).toUTCString();
  }
  return dateText;
}

/** Header values the route writes are ASCII; anything else node:http would refuse or re-encode. */
const PLAIN_VALUE = /^[\t\x20-\x7e]*$/;

/**
 * The status line and headers node:http writes for an answer, up to the
 * framing header: the answer's headers in order, then `Date` and `Connection`.
 * Undefined when a header value is one node:http would refuse.
 */
function head(answer: KeysAnswer, close: boolean): string | undefined {
  let out = `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status] ?? "unknown"}\r\n`;
  const headers = answer.headers;
  for (const name in headers) {
    const value = headers[name]!;
    if (!PLAIN_VALUE.test(value)) return undefined;
    out += `${name}: ${value}\r\n`;
  }
  return `${out}Date: ${httpDate()}\r\nConnection: ${close ? "close" : "keep-alive"}\r\n`;
}

/**
 * Events up to this size are framed once per event and the framed copy
 * kept with it (a fan-out then writes one buffer per watcher); larger ones
 * are written as header, bytes and trailer, so an event the history keeps
 * is not held twice over.
 */
const MAX_FRAMED = 4096;
const chunks = new WeakMap<Uint8Array, Buffer>();
const lastChunks = new WeakMap<Uint8Array, Buffer>();
const CRLF = Buffer.from("\r\n", "latin1");
const LAST_TRAILER = Buffer.from("\r\n0\r\n\r\n", "latin1");
const END_CHUNKED = Buffer.from("0\r\n\r\n", "latin1");

/** Writes `bytes` framed as a chunk (`last`: and ends the body); `sent` once written. */
function writeChunk(socket: Socket, bytes: Uint8Array, last: boolean, sent?: () => void): void {
  if (bytes.length === 0) {
    // An empty chunk would read as the end of the body.
    if (last) socket.write(END_CHUNKED, sent);
    else sent?.();
    return;
  }
  const trailer = last ? LAST_TRAILER : CRLF;
  const header = `${bytes.length.toString(16)}\r\n`;
  if (bytes.length > MAX_FRAMED) {
    socket.cork();
    socket.write(header, "latin1");
    socket.write(bytes);
    socket.write(trailer, sent);
    socket.uncork();
    return;
  }
  const cache = last ? lastChunks : chunks;
  let framed = cache.get(bytes);
  if (framed === undefined) {
    framed = Buffer.concat([Buffer.from(header, "latin1"), bytes, trailer]);
    cache.set(bytes, framed);
  }
  socket.write(framed, sent);
}

/** Where a connection goes when it leaves: node:http, with the bytes not yet read put back. */
export type HandOff = (socket: Socket, unread: Buffer) => void;

/**
 * Serves the plain key requests of `socket` (see the module comment), whose
 * first bytes `first` were already read, and hands it to `handOff` at the
 * first request it does not answer. `open` holds the socket while it is
 * served here, for the server's close.
 */
export function serveDirect(
  socket: Socket,
  first: Buffer,
  route: KeysRoute,
  handOff: HandOff,
  open: Set<Socket>,
): void {
  let held = first;
  /** An answer (or a watch) is pending: later requests wait. */
  let busy = false;
  let paused = false;
  let watch: KeysWatch | undefined;

  const leave = () => {
    socket.off("data", onData);
    socket.off("error", onError);
    socket.off("close", onClose);
    open.delete(socket);
  };
  const onError = () => socket.destroy();
  const onClose = () => {
    leave();
    watch?.cancel();
    watch = undefined;
  };
  const onData = (data: Buffer) => {
    held = held.length === 0 ? data : Buffer.concat([held, data]);
    if (!busy) next();
    else if (held.length > MAX_HELD && !paused) {
      paused = true;
      socket.pause();
    }
  };

  /**
   * The pending answer is written: on to the next request once the client
   * has taken what was written (as node:http stops parsing a pipelining
   * client that does not read), or close.
   */
  const done = (close: boolean) => {
    if (close) {
      // As node:http's destroySoon: no more requests; end once what was
      // written has gone, then destroy. The error and close listeners stay
      // (a client may still reset the connection), and so does `open`.
      socket.off("data", onData);
      held = EMPTY;
      socket.end();
      if (socket.writableFinished) socket.destroy();
      else socket.once("finish", () => socket.destroy());
      return;
    }
    if (socket.writableNeedDrain) {
      if (!paused) {
        paused = true;
        socket.pause();
      }
      socket.once("drain", () => done(false));
      return;
    }
    busy = false;
    if (paused) {
      paused = false;
      socket.resume();
    }
    next();
  };

  const answer = (a: KeysAnswer, close: boolean) => {
    if (socket.destroyed) {
      a.watch?.cancel();
      return;
    }
    const top = head(a, close);
    if (top === undefined) {
      a.watch?.cancel();
      socket.destroy();
      return;
    }
    const w = a.watch;
    if (w !== undefined) {
      serveWatch(w, top, close);
      return;
    }
    const body = a.body ?? "";
    const length = Buffer.byteLength(body);
    if (a.body !== null && length <= MAX_PLAIN_BODY) {
      socket.write(`${top}Content-Length: ${length}\r\n\r\n${body}`);
    } else if (length === 0) {
      socket.write(`${top}Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n`);
    } else {
      socket.write(
        `${top}Transfer-Encoding: chunked\r\n\r\n${length.toString(16)}\r\n${body}\r\n0\r\n\r\n`,
      );
    }
    done(close);
  };

  const serveWatch = (w: KeysWatch, top: string, close: boolean) => {
    watch = w;
    socket.write(`${top}Transfer-Encoding: chunked\r\n\r\n`, "latin1");
    w.attach(
      boundedOutput(
        (bytes, flushed) => writeChunk(socket, bytes, false, flushed),
        (last) => {
          watch = undefined;
          if (socket.destroyed) return;
          if (last === undefined) socket.write(END_CHUNKED);
          else writeChunk(socket, last, true);
          done(close);
        },
      ),
    );
  };

  const next = () => {
    while (!busy && held.length > 0) {
      const req = parseDirect(held);
      let pending: Promise<KeysAnswer> | undefined;
      try {
        pending = req === undefined ? undefined : route(call(req));
      } catch {
        socket.destroy();
        return;
      }
      if (req === undefined || pending === undefined) {
        leave();
        const unread = held;
        held = EMPTY;
        handOff(socket, unread);
        return;
      }
      held = held.length === req.length ? EMPTY : held.subarray(req.length);
      busy = true;
      const close = req.close;
      pending.then((a) => answer(a, close)).catch(() => socket.destroy());
    }
  };

  open.add(socket);
  socket.on("data", onData);
  socket.on("error", onError);
  socket.on("close", onClose);
  next();
}

function call(req: Parsed): KeysCall {
  const headers = req.headers;
  const body = req.body;
  return {
    method: req.method,
    target: req.target,
    header: (name) => headers.get(name),
    bodyBytes: () => Promise.resolve(body),
  };
}
