/**
 * A minimal keep-alive HTTP/1.1 client on raw TCP sockets, for the parts of
 * the harness that Node drives itself (loading keys, watchers, probes). It
 * does just enough — one request in flight per connection, Content-Length or
 * chunked bodies — to cost a few microseconds per response, so that the
 * harness, which shares the machine's cores with the server, stays out of
 * the way of what it measures.
 */
import { connect, type Socket } from "node:net";

/** One complete HTTP response. */
export interface HttpResponse {
  readonly status: number;
  /** Header names lower-cased. */
  readonly headers: ReadonlyMap<string, string>;
  readonly body: Buffer;
}

/** Callbacks for the stages of one response. */
export interface ResponseHandlers {
  /** The status line and headers have arrived (a watch is registered when etcd sends them). */
  onHeaders?(status: number): void;
}

/** The connection closed or failed before a response completed. */
export class HttpConnectionError extends Error {
  override readonly name = "HttpConnectionError";
  readonly code = "BENCH_HTTP_CONNECTION";
}

/** The server sent bytes that are not an HTTP/1.1 response this client understands. */
export class HttpProtocolError extends Error {
  override readonly name = "HttpProtocolError";
  readonly code = "BENCH_HTTP_PROTOCOL";
}

const CRLF = Buffer.from("\r\n");
const HEAD_END = Buffer.from("\r\n\r\n");

interface Pending {
  resolve(response: HttpResponse): void;
  reject(error: Error): void;
  handlers: ResponseHandlers | undefined;
}

/** A kept-alive connection to one `http://host:port` origin. */
export class HttpConnection {
  private buf: Buffer = Buffer.alloc(0);
  private pending: Pending | undefined;
  private status = 0;
  private headers = new Map<string, string>();
  private inBody = false;
  private contentLength = -1;
  private chunked = false;
  private bodyParts: Buffer[] = [];
  private closed = false;

  private constructor(
    private readonly socket: Socket,
    /** The `Host` header value. */
    readonly host: string,
  ) {
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", (error) =>
      this.fail(new HttpConnectionError(error.message, { cause: error })),
    );
    socket.on("close", () => {
      this.closed = true;
      this.fail(new HttpConnectionError(`connection to ${host} closed`));
    });
  }

  /** Connects to the origin of `url` (only `http:` on a literal host and port). */
  static open(url: string): Promise<HttpConnection> {
    const u = new URL(url);
    return new Promise((resolve, reject) => {
      const socket = connect({ host: u.hostname, port: Number(u.port) });
      socket.once("error", reject);
      socket.once("connect", () => {
        socket.off("error", reject);
        resolve(new HttpConnection(socket, u.host));
      });
    });
  }

  /** A complete request head (and body) for this connection's host. */
  format(method: string, path: string, body?: string, contentType?: string): Buffer {
    let head = `${method} ${path} HTTP/1.1\r\nHost: ${this.host}\r\n`;
    if (body !== undefined) {
      head += `Content-Type: ${contentType ?? "application/x-www-form-urlencoded"}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`;
    }
    return Buffer.from(`${head}\r\n${body ?? ""}`);
  }

  /** Sends a pre-formatted request and resolves with its response. */
  send(request: Buffer, handlers?: ResponseHandlers): Promise<HttpResponse> {
    if (this.closed)
      return Promise.reject(new HttpConnectionError(`connection to ${this.host} closed`));
    if (this.pending !== undefined) {
      return Promise.reject(new HttpProtocolError("one request at a time per connection"));
    }
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject, handlers };
      this.socket.write(request);
    });
  }

  /** Closes the socket; a request still in flight fails. */
  close(): void {
    this.socket.destroy();
  }

  private fail(error: Error): void {
    const p = this.pending;
    this.pending = undefined;
    p?.reject(error);
  }

  private onData(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    try {
      this.parse();
    } catch (error) {
      this.fail(error as Error);
      this.socket.destroy();
    }
  }

  private parse(): void {
    for (;;) {
      if (!this.inBody) {
        const end = this.buf.indexOf(HEAD_END);
        if (end < 0) return;
        const lines = this.buf.toString("latin1", 0, end).split("\r\n");
        this.buf = this.buf.subarray(end + 4);
        const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? "");
        if (m === null) throw new HttpProtocolError(`bad status line: ${lines[0]}`);
        this.status = Number(m[1]);
        this.headers = new Map();
        for (const line of lines.slice(1)) {
          const colon = line.indexOf(":");
          if (colon > 0) {
            this.headers.set(
              line.slice(0, colon).trim().toLowerCase(),
              line.slice(colon + 1).trim(),
            );
          }
        }
        this.chunked = /chunked/i.test(this.headers.get("transfer-encoding") ?? "");
        this.contentLength = Number(this.headers.get("content-length") ?? (this.chunked ? -1 : 0));
        this.inBody = true;
        this.bodyParts = [];
        this.pending?.handlers?.onHeaders?.(this.status);
      }
      if (this.chunked) {
        const eol = this.buf.indexOf(CRLF);
        if (eol < 0) return;
        const size = Number.parseInt(this.buf.toString("latin1", 0, eol), 16);
        if (!Number.isFinite(size)) throw new HttpProtocolError("bad chunk size");
        // A chunk is its size line, the data, and a CRLF; the last (size 0)
        // is followed by an empty trailer line.
        if (this.buf.length < eol + 2 + size + 2) return;
        if (size > 0) this.bodyParts.push(this.buf.subarray(eol + 2, eol + 2 + size));
        this.buf = this.buf.subarray(eol + 2 + size + 2);
        if (size > 0) continue;
      } else {
        if (this.buf.length < this.contentLength) return;
        this.bodyParts.push(this.buf.subarray(0, this.contentLength));
        this.buf = this.buf.subarray(this.contentLength);
      }
      this.inBody = false;
      const p = this.pending;
      this.pending = undefined;
      p?.resolve({
        status: this.status,
        headers: this.headers,
        body: this.bodyParts.length === 1 ? this.bodyParts[0]! : Buffer.concat(this.bodyParts),
      });
      if (this.buf.length === 0) return;
    }
  }
}
