import {
  ErrorCode,
  type Micros,
  statusOfErrorCode,
  type V2ErrorData,
  type V2Event,
  v2ErrorData,
  type WriteRequest,
} from "@cairn/v2store";
import type { Backend, KeyResult, WatchSignal } from "./backend.js";
import {
  bytesToBinary,
  FormError,
  parseGoBool,
  parseGoUint64,
  parseMediaType,
  parseQueryInto,
} from "./form.js";
import {
  answerResponse,
  type BaseHeaders,
  goHttpErrorAnswer,
  headersWith,
  type PlainAnswer,
} from "./http.js";
import { renderError, renderEvent } from "./json.js";

/** Go's limit on urlencoded form bodies (net/http parsePostForm). */
const MAX_FORM_BYTES = 10 << 20;

/** What the keys route needs besides the backend. */
export interface KeysContext {
  backend: Backend;
  clock: () => Micros;
}

/** A request to `/v2/keys…` already split by the app. */
export interface KeysRequest {
  method: string;
  /** Decoded, clean path after `/v2/keys` (may be `""` or end with `/`). */
  rest: string;
  /** Raw query string (no `?`). */
  rawQuery: string;
  contentType: string | null;
  /** The body, fetched only when a form must be read (touching it can be costly for a server's lazy Request). */
  body: () => ReadableStream<Uint8Array> | null;
  /** The whole body at once; used when `contentLength` is known and at most 10 MiB. */
  bodyBytes: () => Promise<ArrayBuffer | Uint8Array>;
  contentLength: string | null;
}

/**
 * What `/v2/keys` answers, before any server writes it. A watch answers its
 * headers at once (`body` null) and then writes events through `watch`.
 */
export interface KeysAnswer extends PlainAnswer {
  readonly watch?: KeysWatch;
}

function errorResponse(base: BaseHeaders, clusterId: string, e: V2ErrorData): KeysAnswer {
  return {
    status: statusOfErrorCode(e.errorCode),
    headers: headersWith(base, {
      "Content-Type": "application/json",
      "X-Etcd-Cluster-Id": clusterId,
      "X-Etcd-Index": String(e.index),
    }),
    body: renderError(e),
  };
}

/**
 * The answer to a request whose handling threw: a form the server could not
 * read is etcd's 400 (error 209); anything else is error 300 ("Raft Internal
 * Error") carrying the message with a 500, never a stack trace.
 */
export function thrownAnswer(base: BaseHeaders, err: unknown): PlainAnswer {
  const data =
    err instanceof FormError
      ? v2ErrorData(ErrorCode.InvalidForm, err.message, 0)
      : v2ErrorData(ErrorCode.RaftInternal, err instanceof Error ? err.message : String(err), 0);
  return {
    status: err instanceof FormError ? 400 : 500,
    headers: headersWith(base, { "Content-Type": "application/json" }),
    body: renderError(data),
  };
}

function requestError(code: number, cause: string): V2ErrorData {
  return v2ErrorData(code, cause, 0);
}

/** Reads at most `limit + 1` bytes of a body. */
async function readLimited(
  body: ReadableStream<Uint8Array>,
  limit: number,
): Promise<Uint8Array | undefined> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    total += value.length;
    if (total > limit) {
      await reader.cancel().catch(() => {});
      return undefined;
    }
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

interface Parsed {
  form: Map<string, string>;
}

/** Go's ParseForm: the urlencoded body (PUT/POST) first, then the query; body values win. */
async function parseForm(req: KeysRequest): Promise<Parsed | V2ErrorData> {
  const form = new Map<string, string>();
  let err: string | undefined;
  if (req.method === "PUT" || req.method === "POST") {
    // RFC 7231 §3.1.1.5: an empty type may be treated as octet-stream (Go does).
    const ct =
      req.contentType === null || req.contentType === ""
        ? "application/octet-stream"
        : req.contentType;
    const media = parseMediaType(ct);
    if (media.error !== undefined) err = media.error;
    const isForm = media.type === "application/x-www-form-urlencoded";
    const declared = req.contentLength === null ? Number.NaN : Number(req.contentLength);
    const body = isForm && !(declared >= 0 && declared <= MAX_FORM_BYTES) ? req.body() : null;
    if (isForm && body === null && declared > 0) {
      const raw = await req.bodyBytes();
      // A view, not a copy: a new buffer per write costs more than its parse.
      const e = parseQueryInto(
        form,
        bytesToBinary(raw instanceof Uint8Array ? raw : new Uint8Array(raw)),
      );
      if (err === undefined) err = e;
    } else if (body !== null) {
      const bytes = await readLimited(body, MAX_FORM_BYTES);
      if (bytes === undefined) {
        return requestError(ErrorCode.InvalidForm, "http: POST too large");
      }
      const e = parseQueryInto(form, bytesToBinary(bytes));
      if (err === undefined) err = e;
    }
  }
  if (req.rawQuery !== "") {
    const e = parseQueryInto(form, req.rawQuery);
    if (err === undefined) err = e;
  }
  if (err !== undefined) return requestError(ErrorCode.InvalidForm, err);
  return { form };
}

function boolParam(form: Map<string, string>, name: string, cause: string): boolean | V2ErrorData {
  const v = form.get(name);
  if (v === undefined) return false;
  const b = parseGoBool(v);
  return b === undefined ? requestError(ErrorCode.InvalidField, cause) : b;
}

function uintParam(form: Map<string, string>, name: string): number | undefined | null {
  const v = form.get(name);
  if (v === undefined) return 0;
  const n = parseGoUint64(v);
  return n === undefined ? null : Number(n);
}

/**
 * The expiration etcd computes for `ttl` seconds: `now + ttl*1s` in Go's
 * int64 nanoseconds, overflow included (a huge ttl wraps around and may
 * become permanent or already expired, exactly as on etcd).
 */
function expirationFor(ttl: bigint, now: Micros): Micros | undefined {
  const d = BigInt.asIntN(64, BigInt.asIntN(64, ttl) * 1_000_000_000n);
  const exp = BigInt.asIntN(64, BigInt(now) * 1000n + d);
  if (exp === 0n) return undefined;
  return Number(exp / 1000n);
}

/** The boolean parameters in etcd's validation order (spec §3.2). */
const BOOL_PARAMS = ["recursive", "sorted", "wait", "dir", "quorum", "stream"] as const;

const isErr = (x: unknown): x is V2ErrorData =>
  typeof x === "object" && x !== null && "errorCode" in x;

/**
 * `/v2/keys` (spec §3–§7): method check, parameter parsing in etcd's
 * validation order, dispatch to the backend, rendering.
 */
export async function handleKeys(
  ctx: KeysContext,
  base: BaseHeaders,
  req: KeysRequest,
): Promise<KeysAnswer> {
  const m = req.method;
  if (m !== "GET" && m !== "HEAD" && m !== "PUT" && m !== "POST" && m !== "DELETE") {
    return goHttpErrorAnswer(base, 405, "Method Not Allowed", {
      Allow: "HEAD,GET,PUT,POST,DELETE",
    });
  }
  const clusterId = ctx.backend.clusterId;
  const time = ctx.clock();
  const parsed = await parseForm(req);
  if (isErr(parsed)) return errorResponse(base, clusterId, parsed);
  const form = parsed.form;

  // Validation in etcd's order (spec §3.2).
  const prevIndex = uintParam(form, "prevIndex");
  if (prevIndex === null) {
    return errorResponse(
      base,
      clusterId,
      requestError(ErrorCode.IndexNaN, 'invalid value for "prevIndex"'),
    );
  }
  const waitIndex = uintParam(form, "waitIndex");
  if (waitIndex === null) {
    return errorResponse(
      base,
      clusterId,
      requestError(ErrorCode.IndexNaN, 'invalid value for "waitIndex"'),
    );
  }
  const flags: Record<string, boolean> = {};
  if (form.size === 0) {
    for (const name of BOOL_PARAMS) flags[name] = false;
  } else {
    for (const name of BOOL_PARAMS) {
      const b = boolParam(form, name, `invalid value for "${name}"`);
      if (isErr(b)) return errorResponse(base, clusterId, b);
      flags[name] = b;
    }
  }
  if (flags.wait && m !== "GET") {
    return errorResponse(
      base,
      clusterId,
      requestError(ErrorCode.InvalidField, '"wait" can only be used with GET requests'),
    );
  }
  const prevValue = form.get("prevValue");
  if (prevValue === "") {
    return errorResponse(
      base,
      clusterId,
      requestError(ErrorCode.PrevValueRequired, '"prevValue" cannot be empty'),
    );
  }
  const noValue = boolParam(form, "noValueOnSuccess", 'invalid value for "noValueOnSuccess"');
  if (isErr(noValue)) return errorResponse(base, clusterId, noValue);
  let ttl: bigint | undefined;
  const ttlText = form.get("ttl");
  if (ttlText !== undefined && ttlText.length > 0) {
    ttl = parseGoUint64(ttlText);
    if (ttl === undefined) {
      return errorResponse(
        base,
        clusterId,
        requestError(ErrorCode.TtlNaN, 'invalid value for "ttl"'),
      );
    }
  }
  let prevExist: boolean | undefined;
  const pe = form.get("prevExist");
  if (pe !== undefined) {
    prevExist = parseGoBool(pe);
    if (prevExist === undefined) {
      return errorResponse(
        base,
        clusterId,
        requestError(ErrorCode.InvalidField, "invalid value for prevExist"),
      );
    }
  }
  let refresh = false;
  const rf = form.get("refresh");
  if (rf !== undefined) {
    const b = parseGoBool(rf);
    if (b === undefined) {
      return errorResponse(
        base,
        clusterId,
        requestError(ErrorCode.InvalidField, "invalid value for refresh"),
      );
    }
    refresh = b;
    if (refresh) {
      const v = form.get("value");
      if (v !== undefined && v !== "") {
        return errorResponse(
          base,
          clusterId,
          requestError(ErrorCode.RefreshValue, "A value was provided on a refresh"),
        );
      }
      if (ttl === undefined) {
        return errorResponse(
          base,
          clusterId,
          requestError(ErrorCode.RefreshTtlRequired, "No TTL value set"),
        );
      }
    }
  }

  // The key: path.Join("/", rest) (spec §3.1); the app already cleaned it.
  let key = req.rest;
  if (key.length > 1 && key.endsWith("/")) key = key.slice(0, -1);
  if (key === "") key = "/";

  const backend = ctx.backend;
  if (m === "GET" || m === "HEAD") {
    if (flags.wait) {
      return watch(ctx, base, key, flags.recursive!, flags.stream!, waitIndex ?? 0);
    }
    const r = await backend.read(
      { key, recursive: flags.recursive!, sorted: flags.sorted!, time },
      { linearizable: m === "GET" && flags.quorum! },
    );
    return keyResult(base, clusterId, r, false, m === "HEAD");
  }

  const w: {
    -readonly [K in keyof WriteRequest]: WriteRequest[K];
  } = { method: m, key, time };
  const value = form.get("value");
  if (value !== undefined && value !== "") w.value = value;
  if (flags.dir) w.dir = true;
  if (prevValue !== undefined) w.prevValue = prevValue;
  if (prevIndex !== undefined && prevIndex !== 0) w.prevIndex = prevIndex;
  if (prevExist !== undefined) w.prevExist = prevExist;
  if (flags.recursive) w.recursive = true;
  if (refresh) w.refresh = true;
  if (ttl !== undefined) {
    const exp = expirationFor(ttl, time);
    if (exp !== undefined) w.expiration = exp;
  }
  const r = await backend.propose(w);
  return keyResult(base, clusterId, r, noValue, false);
}

function keyResult(
  base: BaseHeaders,
  clusterId: string,
  r: KeyResult,
  noValue: boolean,
  head: boolean,
): KeysAnswer {
  if (r.error !== undefined || r.event === undefined) {
    const e =
      r.error ?? v2ErrorData(ErrorCode.RaftInternal, "received response with no Event/Watcher", 0);
    // HEAD: the app's middleware drops the body and sets Content-Length.
    return errorResponse(base, clusterId, e);
  }
  const ev = r.event;
  const created = ev.action === "create" || (ev.action === "set" && ev.prevNode === undefined);
  const body = renderEvent(
    ev,
    noValue &&
      (ev.action === "set" ||
        ev.action === "compareAndSwap" ||
        ev.action === "create" ||
        ev.action === "update"),
  );
  const headers: Record<string, string> = headersWith(base, {
    "Content-Type": "application/json",
    "X-Etcd-Cluster-Id": clusterId,
    "X-Etcd-Index": String(ev.etcdIndex),
    "X-Raft-Index": String(r.raftIndex),
    "X-Raft-Term": String(r.raftTerm),
  });
  if (head) {
    headers["Content-Length"] = String(new TextEncoder().encode(body).length);
    return { status: created ? 201 : 200, headers, body: null };
  }
  return { status: created ? 201 : 200, headers, body };
}

/** Events a stream watcher may have queued before it is dropped (etcd's channel of 100). */
export const WATCH_BUFFER = 100;

/**
 * The end of one watch as its backend sees it ({@link WatchSignal}). Not an
 * AbortController: an EventTarget per watcher (its creation, its listener
 * registration, and the objects a young-generation collection then copies
 * while a thousand watches wait) was 5 % of a member's CPU in a fan-out to
 * 1,000 watchers, and it held the collections that made the slowest rounds.
 */
class WatchEnd implements WatchSignal {
  aborted = false;
  #listeners: (() => void)[] | undefined;

  addEventListener(_type: "abort", listener: () => void): void {
    if (this.aborted) return;
    if (this.#listeners === undefined) this.#listeners = [listener];
    else this.#listeners.push(listener);
  }

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    const listeners = this.#listeners;
    this.#listeners = undefined;
    if (listeners !== undefined) for (const listener of listeners) listener();
  }
}

/**
 * An event's body bytes, rendered and encoded once however many watchers
 * it reaches (the rendering depends on the event alone).
 */
const eventBodies = new WeakMap<V2Event, Uint8Array>();
const bodyEncoder = new TextEncoder();

function eventBytes(e: V2Event): Uint8Array {
  let bytes = eventBodies.get(e);
  if (bytes === undefined) {
    bytes = bodyEncoder.encode(renderEvent(e));
    eventBodies.set(e, bytes);
  }
  return bytes;
}

/** Where a watch writes its events: the server's side of a {@link KeysWatch}. */
export interface WatchOutput {
  /**
   * Writes one event. False when the client is too far behind (etcd's
   * buffer of {@link WATCH_BUFFER} events is full): nothing was written and
   * the watch ends.
   */
  write(bytes: Uint8Array): boolean;
  /** Ends the response, writing `last` first when given. */
  end(last?: Uint8Array): void;
}

/**
 * A {@link WatchOutput} over a writer that calls `flushed` once each write
 * has gone out: at most {@link WATCH_BUFFER} events are unflushed at a time
 * (etcd's channel), beyond which the write is refused and the watch ends.
 */
export function boundedOutput(
  write: (bytes: Uint8Array, flushed: () => void) => void,
  end: (last?: Uint8Array) => void,
): WatchOutput {
  let unflushed = 0;
  const flushed = () => {
    unflushed--;
  };
  return {
    write(bytes) {
      if (unflushed >= WATCH_BUFFER) return false;
      unflushed++;
      write(bytes, flushed);
      return true;
    },
    end,
  };
}

/**
 * A registered watch between its backend registration and the client: the
 * server writes the answer's headers, then {@link attach}es its output;
 * events that come before that wait here (at most {@link WATCH_BUFFER}).
 * The server calls {@link cancel} when the client goes away.
 */
export class KeysWatch {
  readonly #end = new WatchEnd();
  readonly #stream: boolean;
  #out: WatchOutput | undefined;
  #early: Uint8Array[] = [];
  /** No more events: delivered, dropped or cancelled. */
  #done = false;
  /** Finished before the output was attached: end it once attached. */
  #endPending = false;

  constructor(stream: boolean) {
    this.#stream = stream;
  }

  /** Aborts when the watch is over; removes the backend registration. */
  get signal(): WatchSignal {
    return this.#end;
  }

  /** The backend's side: events, and the end of the watch. */
  readonly sink = {
    event: (e: V2Event) => this.#event(eventBytes(e)),
    end: () => this.#finish(false),
  };

  #event(bytes: Uint8Array): void {
    if (this.#done) return;
    const out = this.#out;
    if (out === undefined) {
      if (this.#early.length >= WATCH_BUFFER) {
        this.#finish(false);
        return;
      }
      this.#early.push(bytes);
      // A backend delivers at most one event to a one-shot watch and then
      // forgets it: no abort needed (aborting costs an event dispatch per
      // watcher in a fan-out).
      if (!this.#stream) {
        this.#done = true;
        this.#endPending = true;
      }
      return;
    }
    if (!this.#stream) {
      this.#done = true;
      out.end(bytes);
      return;
    }
    // The client does not keep up: drop it, as etcd does (spec §7).
    if (!out.write(bytes)) this.#finish(false);
  }

  #finish(delivered: boolean): void {
    if (this.#done) return;
    this.#done = true;
    if (!delivered) this.#end.abort();
    if (this.#out === undefined) this.#endPending = true;
    else this.#out.end();
  }

  /** Starts writing to `out`: first what came before, then live events. */
  attach(out: WatchOutput): void {
    this.#out = out;
    const early = this.#early;
    this.#early = [];
    if (this.#endPending) {
      for (let i = 0; i < early.length - 1; i++) out.write(early[i]!);
      out.end(early.length > 0 ? early[early.length - 1] : undefined);
      return;
    }
    for (const bytes of early) {
      if (!out.write(bytes)) {
        this.#finish(false);
        return;
      }
    }
  }

  /** The client went away: drop the registration. */
  cancel(): void {
    if (this.#done) return;
    this.#done = true;
    this.#end.abort();
  }
}

/**
 * A watch's events as a response body stream, for servers that take a
 * Response: it holds at most {@link WATCH_BUFFER} unread events.
 */
export function watchBody(w: KeysWatch): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>(
    {
      start(c) {
        w.attach({
          write(bytes) {
            if ((c.desiredSize ?? 0) <= 0) return false;
            c.enqueue(bytes);
            return true;
          },
          end(last) {
            try {
              if (last !== undefined) c.enqueue(last);
              c.close();
            } catch {
              // already closed or cancelled by the client
            }
          },
        });
      },
      cancel() {
        w.cancel();
      },
    },
    { highWaterMark: WATCH_BUFFER, size: () => 1 },
  );
}

/**
 * A keys answer as a Response; a watch's events follow as its body stream,
 * and the watch is cancelled when `signal` (the request's) aborts.
 */
export function keysResponse(answer: KeysAnswer, signal: AbortSignal): Response {
  const w = answer.watch;
  if (w === undefined) return answerResponse(answer);
  if (signal.aborted) w.cancel();
  else signal.addEventListener("abort", () => w.cancel(), { once: true });
  return new Response(watchBody(w), { status: answer.status, headers: answer.headers });
}

async function watch(
  ctx: KeysContext,
  base: BaseHeaders,
  key: string,
  recursive: boolean,
  stream: boolean,
  sinceIndex: number,
): Promise<KeysAnswer> {
  const w = new KeysWatch(stream);
  const start = await ctx.backend.watch({ key, recursive, stream, sinceIndex }, w.sink, w.signal);
  if (start.error !== undefined) {
    w.cancel();
    return errorResponse(base, ctx.backend.clusterId, start.error);
  }
  return {
    status: 200,
    headers: headersWith(base, {
      "Content-Type": "application/json",
      "X-Etcd-Cluster-Id": ctx.backend.clusterId,
      "X-Etcd-Index": String(start.etcdIndex),
      "X-Raft-Index": String(start.raftIndex),
      "X-Raft-Term": String(start.raftTerm),
    }),
    body: null,
    watch: w,
  };
}

export { FormError };
