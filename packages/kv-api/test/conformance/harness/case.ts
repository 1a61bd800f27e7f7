/**
 * The conformance case runner.
 *
 * A case is a short story of HTTP requests written once and run against every
 * target (`cairn`, and `etcd` when installed) in parallel. Each case:
 *
 * - uses its own key prefix (`c.p`), so cases never see each other's keys;
 * - reads the store index just before it starts (`c.base`) and writes every
 *   expected index relative to it (`c.i(1)` is the index of the case's first
 *   write), so it does not depend on what ran before (spec §1.4: etcd's
 *   internal records shift absolute indexes);
 * - states its expectations explicitly (status, exact body bytes, headers),
 *   masking only what is genuinely variable (timestamps, ids, raft counters);
 * - records a transcript of every response; in differential mode the etcd and
 *   Cairn transcripts must be equal after the same masking, so a case fails
 *   whenever Cairn answers differently from etcd, even on a detail the
 *   explicit expectations do not spell out.
 */
import { afterAll, beforeAll, describe, test } from "vitest";
import {
  header,
  open,
  type RawRequest,
  type RawResponse,
  type StreamingResponse,
  send,
  sendBytes,
} from "./http.js";
import {
  CAIRN_TARGETS,
  type CairnOptions,
  DIFFERENTIAL,
  startTarget,
  TARGETS,
  type Target,
  type TargetName,
} from "./targets.js";

/** One recorded response, normalised for comparison between targets. */
export interface Entry {
  readonly request: string;
  readonly status: number;
  readonly headers: readonly string[];
  readonly body: string;
}

/** A response plus the request line it answered. */
export interface Res extends RawResponse {
  readonly request: string;
}

/** Options of one request. */
export interface ReqOptions {
  /** Form body (sent as application/x-www-form-urlencoded unless `contentType` says otherwise). */
  readonly form?: string;
  /** Raw body. */
  readonly body?: string | Buffer;
  readonly contentType?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Case-specific masking of the body before checks and comparison. */
  readonly mask?: (body: string) => string;
  /** Request line recorded in the transcript, when the real one holds a variable id. */
  readonly label?: string;
  /** Do not record in the transcript (polling helpers). */
  readonly unrecorded?: boolean;
  readonly timeoutMs?: number;
}

/** What a check expects of a response. */
export interface Expectation {
  readonly status: number;
  /** Exact body after masking; omitted = not checked. */
  readonly body?: string;
  /** Header values (string = exact, RegExp = match, null = must be absent). */
  readonly headers?: Readonly<Record<string, string | RegExp | null>>;
}

/** RFC 3339 with nanoseconds, UTC, trailing zeros trimmed (spec §1.3). */
export const RFC3339_NANO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d*[1-9])?Z$/;

/**
 * Replaces well-formed `expiration` timestamps by `<ts>` (malformed ones stay
 * visible) and rounds `ttl` values of 10 s and more (see {@link roundTtl}).
 */
export function maskTimes(body: string): string {
  return body
    .replace(/"(expiration|startTime)":"([^"]*)"/g, (all, field: string, ts: string) =>
      RFC3339_NANO.test(ts) ? `"${field}":"<ts>"` : all,
    )
    .replace(/"ttl":(\d+)/g, (_, d: string) => `"ttl":${roundTtl(Number(d))}`);
}

/**
 * `ttl` is the ceiling of the remaining seconds (spec §2.2), so a response
 * produced more than a second after the write shows one less. On this shared
 * machine etcd's fsync alone can take that long, so TTLs of 10 s and more are
 * compared rounded up to the next multiple of ten (`~100` for 91..100);
 * shorter ones, used by the expiry cases, stay exact.
 */
export function roundTtl(ttl: number): string {
  return ttl >= 10 ? `~${Math.ceil(ttl / 10) * 10}` : String(ttl);
}

/**
 * A case mask for answers about a short TTL: `ttl` counts down from the
 * write, so an answer that comes a second or more after it (a starved host;
 * seen at 40 % CPU steal) reads one less, or more. Maps the first `ttl`
 * reading between 1 and `ttl` − 1 back to `ttl`; 0 (omitted) and `ttl` + 1
 * stay visible.
 */
export function lateTtl(ttl: number): (body: string) => string {
  return (body) =>
    body.replace(/"ttl":(\d+),/, (all, d: string) =>
      Number(d) >= 1 && Number(d) < ttl ? `"ttl":${ttl},` : all,
    );
}

/** Lowercase hex without padding (spec §1.3). */
export const HEX_ID = /^[1-9a-f][0-9a-f]*$/;

const HOP_BY_HOP = new Set(["connection", "keep-alive"]);

/**
 * A case's view of one target: request helpers that record a transcript, and
 * soft checks that collect every mismatch instead of stopping at the first.
 */
export class CaseContext {
  /** Store index read just before the case started. */
  base = 0;
  readonly transcript: Entry[] = [];
  readonly failures: string[] = [];

  constructor(
    readonly target: Target,
    /** Key prefix of this case, e.g. `/ka07`. */
    readonly p: string,
  ) {}

  /** Index of the case's n-th index-consuming write (1-based). */
  i(n: number): number {
    return this.base + n;
  }

  /** Key of this case: prefix + `rel`. */
  k(rel = ""): string {
    return this.p + rel;
  }

  /** Request path under /v2/keys for this case's key `rel` (may carry a query). */
  keys(rel = ""): string {
    return "/v2/keys" + this.p + rel;
  }

  /** Reads the current store index (unrecorded). */
  async index(): Promise<number> {
    const res = await send(this.target.url, { method: "GET", path: "/v2/keys/" });
    const value = header(res, "x-etcd-index");
    if (value === undefined || !/^\d+$/.test(value)) {
      throw new Error(`${this.target.name}: GET /v2/keys/ has no X-Etcd-Index (${res.status})`);
    }
    return Number(value);
  }

  async init(): Promise<void> {
    this.base = await this.index();
  }

  /** Sends a request and records the normalised response. */
  async req(method: string, path: string, options: ReqOptions = {}): Promise<Res> {
    const headers: Record<string, string> = { ...options.headers };
    let body: string | Buffer | undefined = options.body;
    if (options.form !== undefined) {
      body = options.form;
      headers["content-type"] = options.contentType ?? "application/x-www-form-urlencoded";
    } else if (options.contentType !== undefined) {
      headers["content-type"] = options.contentType;
    }
    const raw: RawRequest = {
      method,
      path,
      headers,
      ...(body !== undefined ? { body } : {}),
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    };
    const res = await send(this.target.url, raw);
    const masked = (options.mask ?? ((s: string) => s))(maskTimes(res.text));
    const out: Res = { ...res, text: masked, request: options.label ?? `${method} ${path}` };
    if (!options.unrecorded) this.record(out);
    return out;
  }

  get(path: string, options?: ReqOptions) {
    return this.req("GET", path, options);
  }
  head(path: string, options?: ReqOptions) {
    return this.req("HEAD", path, options);
  }
  put(path: string, form?: string, options: ReqOptions = {}) {
    return this.req("PUT", path, form !== undefined ? { ...options, form } : options);
  }
  post(path: string, form?: string, options: ReqOptions = {}) {
    return this.req("POST", path, form !== undefined ? { ...options, form } : options);
  }
  del(path: string, options?: ReqOptions) {
    return this.req("DELETE", path, options);
  }

  /**
   * Sends raw bytes on a socket (for what node:http will not build) and
   * records the parsed answer; `statusLine` is "" when the server hung up.
   */
  async raw(bytes: Buffer, label: string): Promise<Res & { statusLine: string }> {
    const out = await sendBytes(this.target.url, bytes, 1_000, 10_000);
    const split = out.indexOf("\r\n\r\n");
    const head = (split < 0 ? out : out.subarray(0, split)).toString("latin1").split("\r\n");
    let body = split < 0 ? Buffer.alloc(0) : out.subarray(split + 4);
    const statusLine = head[0] ?? "";
    const headers: [string, string][] = head.slice(1).flatMap((line) => {
      const colon = line.indexOf(":");
      return colon < 0
        ? []
        : [[line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()] as [string, string]];
    });
    if (headers.some(([n, v]) => n === "transfer-encoding" && v === "chunked"))
      body = dechunk(body);
    const res = {
      status: Number(/^HTTP\/\d\.\d (\d{3})/.exec(statusLine)?.[1] ?? 0),
      headers,
      body,
      text: maskTimes(body.toString("utf8")),
      request: label,
      statusLine,
    };
    this.transcript.push({
      request: label,
      status: res.status,
      headers: [statusLine, ...this.normaliseHeaders(res)],
      body: relativise(res.text.replaceAll(this.target.url, "<url>"), this.base),
    });
    return res;
  }

  /**
   * Starts a watch (or any long response) and resolves once the headers
   * arrived — for etcd that means the watcher is registered (spec §7).
   */
  async watch(path: string, timeoutMs = 10_000, label = `GET ${path}`): Promise<Watch> {
    const stream = await open(this.target.url, { method: "GET", path, timeoutMs });
    this.record({
      request: `${label} (head)`,
      status: stream.status,
      headers: stream.headers,
      body: Buffer.alloc(0),
      text: "",
    });
    return new Watch(this, label, stream);
  }

  /** Request lines may carry indexes (waitIndex=, prevIndex=): make them relative too. */
  private label(request: string): string {
    return request.replace(
      /(waitIndex=|prevIndex=|--after-index )(\d+)/g,
      (_, p: string, d: string) => p + relativise(d, this.base, true),
    );
  }

  /** Records a response in the transcript (normalised for comparison). */
  record(res: Res): void {
    this.transcript.push({
      request: this.label(res.request),
      status: res.status,
      headers: this.normaliseHeaders(res),
      body: relativise(res.text.replaceAll(this.target.url, "<url>"), this.base),
    });
  }

  /** Records a free-form observation (e.g. a body read from a stream). */
  note(request: string, body: string): void {
    this.transcript.push({
      request: this.label(request),
      status: 0,
      headers: [],
      body: relativise(body, this.base),
    });
  }

  private normaliseHeaders(res: Res): string[] {
    const out: string[] = [];
    for (const [name, value] of res.headers) {
      if (HOP_BY_HOP.has(name)) continue;
      let v = value;
      if (name === "date") v = "<date>";
      else if (name === "x-etcd-cluster-id") v = HEX_ID.test(value) ? "<cluster-id>" : value;
      else if (name === "x-raft-index" || name === "x-raft-term")
        v = /^\d+$/.test(value) ? "<n>" : value;
      else if (name === "x-etcd-index") v = relativise(value, this.base, true);
      else if (name === "content-length") {
        v = Number(value) === res.body.length || res.request.startsWith("HEAD ") ? "<ok>" : value;
      }
      out.push(`${name}: ${v}`);
    }
    return out.sort();
  }

  /** Soft assertion: records a failure message instead of throwing. */
  fail(message: string): void {
    this.failures.push(message);
  }

  /** Soft equality check. */
  eq<T>(actual: T, expected: T, what: string): void {
    const a = JSON.stringify(actual);
    const e = JSON.stringify(expected);
    if (a !== e) this.fail(`${what}: expected ${e}, got ${a}`);
  }

  /** Checks status, exact (masked) body and the listed headers of `res`. */
  check(res: Res, expected: Expectation): void {
    const where = `${res.request}`;
    if (res.status !== expected.status) {
      this.fail(
        `${where}: status ${res.status}, expected ${expected.status} (body ${JSON.stringify(res.text)})`,
      );
    }
    if (expected.body !== undefined && res.text !== expected.body) {
      this.fail(
        `${where}: body\n      got      ${JSON.stringify(res.text)}\n      expected ${JSON.stringify(expected.body)}`,
      );
    }
    for (const [name, want] of Object.entries(expected.headers ?? {})) {
      const got = header(res, name);
      if (want === null) {
        if (got !== undefined)
          this.fail(`${where}: header ${name} should be absent, got ${JSON.stringify(got)}`);
      } else if (got === undefined) {
        this.fail(`${where}: header ${name} missing (expected ${String(want)})`);
      } else if (typeof want === "string" ? got !== want : !want.test(got)) {
        this.fail(`${where}: header ${name}: ${JSON.stringify(got)}, expected ${String(want)}`);
      }
    }
  }

  /**
   * A successful /v2/keys response (spec §1.4): JSON, cluster id, the etcd
   * index `index`, raft index and term.
   */
  ok(res: Res, status: number, body: string, index: number): void {
    this.check(res, {
      status,
      body,
      headers: {
        "content-type": "application/json",
        "x-etcd-cluster-id": HEX_ID,
        "x-etcd-index": String(index),
        "x-raft-index": /^\d+$/,
        "x-raft-term": /^\d+$/,
      },
    });
  }

  /**
   * A /v2/keys error (spec §8.1): exact body with trailing newline, JSON,
   * cluster id, X-Etcd-Index = the error's index, no raft headers.
   */
  err(
    res: Res,
    status: number,
    code: number,
    message: string,
    cause: string | undefined,
    index: number,
  ): void {
    const c = cause === undefined ? "" : `"cause":${goJson(cause)},`;
    this.check(res, {
      status,
      body: `{"errorCode":${code},"message":${goJson(message)},${c}"index":${index}}\n`,
      headers: {
        "content-type": "application/json",
        "x-etcd-cluster-id": HEX_ID,
        "x-etcd-index": String(index),
        "x-raft-index": null,
        "x-raft-term": null,
      },
    });
  }

  /** Polls (unrecorded) until GET of the case key `rel` answers 404, bounded. */
  async waitGone(rel: string, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const res = await this.get(this.keys(rel), { unrecorded: true });
      if (res.status === 404) return true;
      await new Promise((r) => setTimeout(r, 50));
    }
    this.fail(`${rel} still present after ${timeoutMs} ms`);
    return false;
  }
}

/** A pending watch response. */
export class Watch {
  constructor(
    private readonly c: CaseContext,
    private readonly request: string,
    readonly stream: StreamingResponse,
  ) {}

  get status() {
    return this.stream.status;
  }

  /** Waits (bounded) for the whole body; records it; "" on timeout (and a failure). */
  async body(timeoutMs = 10_000, mask: (s: string) => string = (s) => s): Promise<string> {
    let text: string;
    try {
      text = await this.stream.end(timeoutMs);
    } catch (error) {
      this.c.fail(`${this.request}: ${(error as Error).message}`);
      text = this.stream.received();
      this.stream.close();
    }
    const masked = mask(maskTimes(text));
    this.c.note(`${this.request} (body)`, masked);
    return masked;
  }

  /** Waits (bounded) until `n` newline-terminated lines arrived; records them (after `mask`). */
  async lines(
    n: number,
    timeoutMs = 10_000,
    mask: (s: string) => string = (s) => s,
  ): Promise<string[]> {
    let text: string;
    try {
      text = await this.stream.until((t) => t.split("\n").length > n, timeoutMs);
    } catch (error) {
      this.c.fail(`${this.request}: ${(error as Error).message}`);
      text = this.stream.received();
    }
    const lines = text
      .split("\n")
      .slice(0, n)
      .map((l) => mask(maskTimes(l)));
    this.c.note(`${this.request} (first ${n} lines)`, lines.join("\n"));
    return lines;
  }

  /** True when nothing arrived for `ms` (the watch is still pending); recorded. */
  async silentFor(ms: number): Promise<boolean> {
    await new Promise((r) => setTimeout(r, ms));
    const text = this.stream.received();
    this.c.note(`${this.request} (after ${ms} ms)`, maskTimes(text));
    return text === "";
  }

  close(): void {
    this.stream.close();
  }
}

/** Decodes a chunked body (bounded by what arrived). */
function dechunk(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  while (at < data.length) {
    const eol = data.indexOf("\r\n", at);
    if (eol < 0) break;
    const size = Number.parseInt(data.subarray(at, eol).toString("latin1"), 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(data.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

/** JSON string encoding as Go's encoding/json writes it (spec §1.3). */
export function goJson(s: string): string {
  return JSON.stringify(s)
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

/**
 * Rewrites index-like numbers relative to `base` (`{+3}`), in the places an
 * index appears: node/error index fields, in-order key names (20 digits),
 * compare-failed and history-cleared causes. Numbers below `base` stay as
 * they are (literal parameters such as prevIndex=1, the 0 of parse errors).
 */
export function relativise(text: string, base: number, whole = false): string {
  const rel = (digits: string) => {
    const v = Number(digits);
    if (v < base) return digits;
    const pad = digits.length === 20 ? "/20" : "";
    return `{+${v - base}${pad}}`;
  };
  if (whole) return /^\d+$/.test(text) ? rel(text) : text;
  return text
    .replace(
      /"(modifiedIndex|createdIndex|index)":(\d+)/g,
      (_, f: string, d: string) => `"${f}":${rel(d)}`,
    )
    .replace(/\/(\d{20})(?=["/\s]|$)/g, (_, d: string) => `/${rel(d)}`)
    .replace(/ != (\d+)\]/g, (_, d: string) => ` != ${rel(d)}]`)
    .replace(/\[(\d+)\/(\d+)\]/g, (_, a: string, b: string) => `[${rel(a)}/${rel(b)}]`);
}

/** A case body. */
export type CaseFn = (c: CaseContext) => Promise<void>;

/** Options of one case. */
export interface CaseOptions {
  /** Per-case time limit (default 30 s). */
  readonly timeoutMs?: number;
}

interface CaseDef {
  readonly title: string;
  readonly fn: CaseFn;
  readonly options: CaseOptions;
}

/** Per-file tallies printed after the file (and used in reports). */
interface Tally {
  pass: Record<TargetName, number>;
  /** Cases whose transcript equals etcd's, per Cairn target. */
  agree: Record<TargetName, number>;
  total: number;
  failures: string[];
}

/**
 * Declares a conformance file: `tag` (2-3 letters) prefixes the cases' keys;
 * `register` adds cases with `kase(title, fn)`. One server per target serves
 * the whole file.
 */
export function conformance(
  section: string,
  tag: string,
  register: (kase: (title: string, fn: CaseFn, options?: CaseOptions) => void) => void,
  options: { cairn?: CairnOptions; etcdArgs?: readonly string[]; skip?: boolean } = {},
): void {
  const cases: CaseDef[] = [];
  register((title, fn, caseOptions = {}) => cases.push({ title, fn, options: caseOptions }));
  const targets = new Map<TargetName, Target>();
  const startErrors = new Map<TargetName, unknown>();
  const zero = (): Record<TargetName, number> => ({ etcd: 0, cairn: 0, "cairn-member": 0 });
  const tally: Tally = { pass: zero(), agree: zero(), total: 0, failures: [] };

  describe.skipIf(options.skip === true)(section, () => {
    beforeAll(async () => {
      await Promise.all(
        TARGETS.map(async (name) => {
          try {
            targets.set(name, await startTarget(name, options.cairn ?? {}, options.etcdArgs ?? []));
          } catch (error) {
            startErrors.set(name, error);
          }
        }),
      );
    }, 60_000);

    afterAll(async () => {
      await Promise.all([...targets.values()].map((t) => t.stop()));
      const parts = TARGETS.map((t) => `${t} ${tally.pass[t]}/${tally.total}`);
      if (DIFFERENTIAL) {
        for (const t of CAIRN_TARGETS) parts.push(`agree(${t}) ${tally.agree[t]}/${tally.total}`);
      }
      console.log(
        `[conformance] ${section}: ${parts.join(", ")}` +
          tally.failures.map((f) => `\n  ${f}`).join(""),
      );
    }, 30_000);

    cases.forEach((def, n) => {
      const prefix = `/${tag}${String(n + 1).padStart(2, "0")}`;
      test(
        def.title,
        async () => {
          tally.total++;
          const results = await Promise.all(
            TARGETS.map(async (name) => {
              const target = targets.get(name);
              if (target === undefined) {
                return { name, ctx: undefined, error: startErrors.get(name) };
              }
              const ctx = new CaseContext(target, prefix);
              try {
                await ctx.init();
                await def.fn(ctx);
              } catch (error) {
                ctx.fail(`threw: ${(error as Error).stack ?? String(error)}`);
              }
              return { name, ctx, error: undefined };
            }),
          );
          const problems: string[] = [];
          for (const r of results) {
            if (r.ctx === undefined) {
              problems.push(`[${r.name}] server did not start: ${String(r.error)}`);
              tally.failures.push(`${def.title} [${r.name}]: server did not start`);
            } else if (r.ctx.failures.length > 0) {
              problems.push(...r.ctx.failures.map((f) => `[${r.name}] ${f}`));
              tally.failures.push(`${def.title} [${r.name}]: ${r.ctx.failures[0]!.split("\n")[0]}`);
            } else {
              tally.pass[r.name]++;
            }
          }
          if (DIFFERENTIAL) {
            const etcd = results.find((r) => r.name === "etcd")?.ctx;
            for (const name of CAIRN_TARGETS) {
              const cairn = results.find((r) => r.name === name)?.ctx;
              const diff =
                etcd && cairn
                  ? compare(etcd.transcript, cairn.transcript, name)
                  : "a target is missing";
              if (diff === undefined) tally.agree[name]++;
              else {
                problems.push(`[differential etcd/${name}] ${diff}`);
                tally.failures.push(
                  `${def.title} [differential etcd/${name}]: ${diff.split("\n")[0]}`,
                );
              }
            }
          }
          if (problems.length > 0) throw new Error(problems.join("\n"));
        },
        def.options.timeoutMs ?? 30_000,
      );
    });
  });
}

/** First difference between etcd's and a Cairn target's transcript, or undefined when they agree. */
export function compare(
  etcd: readonly Entry[],
  cairn: readonly Entry[],
  name = "cairn",
): string | undefined {
  const n = Math.max(etcd.length, cairn.length);
  for (let i = 0; i < n; i++) {
    const e = etcd[i];
    const c = cairn[i];
    if (e === undefined || c === undefined) {
      return `response #${i + 1}: only ${e ? "etcd" : name} has it (${(e ?? c)!.request})`;
    }
    if (JSON.stringify(e) !== JSON.stringify(c)) {
      const lines = [`response #${i + 1} (${e.request}) differs:`];
      if (e.request !== c.request) lines.push(`  request etcd ${e.request} ${name} ${c.request}`);
      if (e.status !== c.status) lines.push(`  status etcd ${e.status} ${name} ${c.status}`);
      if (e.body !== c.body) {
        lines.push(
          `  body etcd  ${JSON.stringify(e.body)}`,
          `  body ${name} ${JSON.stringify(c.body)}`,
        );
      }
      const eh = e.headers.join(" | ");
      const ch = c.headers.join(" | ");
      if (eh !== ch) lines.push(`  headers etcd  ${eh}`, `  headers ${name} ${ch}`);
      return lines.join("\n");
    }
  }
  return undefined;
}
