/**
 * Fuzzing the v2 API: thousands of random and malformed requests (methods,
 * paths with `..`, `//`, percent-escapes and invalid UTF-8, odd and huge
 * parameters, bodies in the wrong encoding or too large, raw garbage on the
 * socket) against a server. Invariants:
 *
 * - no response is a 5xx, the server never stops answering, nothing hangs;
 * - the store afterwards equals what the valid requests alone make: every
 *   write answered 2xx is replayed, in order, against a fresh server started
 *   at the same index; each replayed response must equal the original, and
 *   the final trees (a sorted recursive listing plus a GET of every key a
 *   valid write touched, hidden ones included) must be equal.
 *
 * The PRNG is seeded; the seed is printed and named in every failure, and
 * `CAIRN_FUZZ_SEED=<n>` replays a run. `CAIRN_FUZZ_COUNT` sets the number
 * of requests (default 2000). The run also goes against etcd when it is
 * installed — etcd must satisfy the same invariants, and the statuses where
 * the two differ are printed for learning (not a failure here: the
 * conformance suite owns exact agreement). The targets run concurrently,
 * each against its own servers.
 */
import { afterAll, describe, expect, test } from "vitest";
import { maskTimes, relativise } from "../conformance/harness/case.js";
import { header, type RawResponse, send, sendBytes } from "../conformance/harness/http.js";
import {
  CAIRN_TARGETS,
  startTarget,
  TARGETS,
  type Target,
  type TargetName,
} from "../conformance/harness/targets.js";

const SEED = Number(process.env.CAIRN_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const COUNT = Number(process.env.CAIRN_FUZZ_COUNT ?? 2000);
const PREFIX = "/v2/keys/fz";

/** mulberry32: small, fast, good enough to pick requests. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const chance = (p: number) => next() < p;
  return { next, int, pick, chance };
}
type Rng = ReturnType<typeof prng>;

/** One generated request: through node:http, or raw bytes on a socket. */
type FuzzRequest =
  | {
      readonly kind: "http";
      readonly method: string;
      readonly path: string;
      readonly headers: Record<string, string>;
      readonly body?: Buffer;
      /** A watch: the client hangs up after a moment (never waits for an event). */
      readonly watch?: boolean;
    }
  | {
      readonly kind: "raw";
      readonly bytes: Buffer;
      readonly label: string;
      readonly write: boolean;
    };

const SEGMENTS = [
  "a",
  "b",
  "c",
  "dir",
  "_h",
  "x%20y",
  "%2e%2e",
  "..",
  ".",
  "",
  "%2F",
  "a%2Fb",
  "%zz",
  "%ff",
  "%C3%A9",
  "%00",
  "00000000000000000001",
  "+",
  "%",
  "%3F",
  "%23",
  "~",
  "\u00e9",
  "a".repeat(300),
  "%E2%80%A8",
  "<x>",
  "&",
  "%5C",
  "%3C",
  "q",
];
const BOOL_VALUES = ["true", "false", "1", "0", "t", "F", "TRUE", "yes", "", "%zz", "2", "True"];
const NUM_VALUES = [
  "1",
  "0",
  "5",
  "-1",
  "abc",
  "",
  "99999999999999999999",
  "1e3",
  "0x10",
  " 3",
  "%zz",
];
const TTL_VALUES = [
  "",
  "3600",
  "7200",
  "-1",
  "abc",
  "1.5",
  "99999999999999999999",
  "%zz",
  "0100000",
];
const VALUES = [
  "v",
  "",
  "x+y",
  "%zz",
  "%ff%fe",
  "<a>&",
  "%E2%80%A8",
  "é",
  "a".repeat(1000),
  "%00",
  "%",
  "+",
];
const PARAMS = [
  "value",
  "ttl",
  "dir",
  "prevExist",
  "prevValue",
  "prevIndex",
  "recursive",
  "sorted",
  "waitIndex",
  "quorum",
  "refresh",
  "noValueOnSuccess",
  "stream",
  "unknown",
  "value",
];

function paramValue(r: Rng, name: string, base: number): string {
  switch (name) {
    case "ttl":
      return r.pick(TTL_VALUES);
    case "prevIndex":
    case "waitIndex":
      return r.chance(0.5) ? String(base + r.int(COUNT)) : r.pick(NUM_VALUES);
    case "value":
    case "prevValue":
    case "unknown":
      return r.pick(VALUES);
    default:
      return r.pick(BOOL_VALUES);
  }
}

function params(r: Rng, base: number, max: number): string {
  const n = r.int(max + 1);
  const parts: string[] = [];
  for (let i = 0; i < n; i++) {
    const name = r.pick(PARAMS);
    parts.push(`${name}=${paramValue(r, name, base)}`);
  }
  return parts.join("&");
}

function keyPath(r: Rng): string {
  const roll = r.next();
  const prefix =
    roll < 0.9
      ? PREFIX
      : r.pick([
          "/v2/keys",
          "/v2/keys/",
          "/v2/keysfz",
          "/v2/key/fz",
          "/V2/keys/fz",
          "/v2//keys/fz",
          "/v2/keys/fz/..",
        ]);
  const depth = r.int(4);
  let path = prefix;
  for (let i = 0; i < depth; i++) path += `/${r.pick(SEGMENTS)}`;
  if (r.chance(0.05)) path += "/";
  return path;
}

function generate(r: Rng, base: number, bigLeft: { n: number }): FuzzRequest {
  if (r.chance(0.02)) return rawRequest(r);
  const method = r.pick([
    "GET",
    "GET",
    "GET",
    "PUT",
    "PUT",
    "PUT",
    "PUT",
    "PUT",
    "POST",
    "POST",
    "DELETE",
    "DELETE",
    "DELETE",
    "HEAD",
    "OPTIONS",
    "PATCH",
    "FOO",
    "TRACE",
    "get",
  ]);
  let path = keyPath(r);
  const query = params(r, base, 3).replaceAll(" ", "%20");
  if (query !== "" || r.chance(0.05)) path += `?${query}`;
  const headers: Record<string, string> = {};
  let body: Buffer | undefined;
  if (method !== "GET" && method !== "HEAD" && r.chance(0.8)) {
    const kind = r.int(10);
    if (kind < 6) {
      headers["content-type"] = r.chance(0.9)
        ? "application/x-www-form-urlencoded"
        : "application/x-www-form-urlencoded; charset=latin1";
      body = Buffer.from(params(r, base, 4), "latin1");
    } else if (kind === 6) {
      headers["content-type"] = "application/x-www-form-urlencoded";
      body = Buffer.from([
        0x76, 0x61, 0x6c, 0x75, 0x65, 0x3d, 0xff, 0xfe, 0x00, 0x26, 0x3d, 0x3d, 0x25,
      ]);
    } else if (kind === 7) {
      headers["content-type"] = r.pick([
        "application/json",
        "text/plain",
        "multipart/form-data; boundary=zz",
        "",
        "x/y; z",
      ]);
      body = Buffer.from(
        r.pick(['{"value":"j"}', "value=t", "--zz\r\n\r\n--zz--", "\u0000\u0001"]),
        "utf8",
      );
    } else if (kind === 8 && bigLeft.n > 0) {
      bigLeft.n--;
      headers["content-type"] = "application/x-www-form-urlencoded";
      body = Buffer.alloc(10 * 1024 * 1024 + r.int(1000) + 1, 0x61);
      body.write("value=", 0);
    } else {
      headers["content-type"] = "application/x-www-form-urlencoded";
      body = Buffer.from(`value=${"b".repeat(r.int(200_000))}`);
    }
  }
  const watch = method === "GET" && r.chance(0.03);
  if (watch) path += `${path.includes("?") ? "&" : "?"}wait=true`;
  return {
    kind: "http",
    method,
    path,
    headers,
    ...(body !== undefined ? { body } : {}),
    ...(watch ? { watch } : {}),
  };
}

function rawRequest(r: Rng): FuzzRequest {
  const forms: [string, () => Buffer][] = [
    ["garbage", () => Buffer.from(Array.from({ length: 1 + r.int(200) }, () => r.int(256)))],
    ["bad request line", () => Buffer.from("GET  /v2/keys/fz HTTP/1.1\r\nHost: x\r\n\r\n")],
    [
      "space in path",
      () => Buffer.from("GET /v2/keys/fz/a b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
    ],
    [
      "raw bytes in path",
      () =>
        Buffer.concat([
          Buffer.from("PUT /v2/keys/fz/"),
          Buffer.from([0xc3, 0x28, 0xff]),
          Buffer.from(" HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"),
        ]),
    ],
    [
      "lowercase method",
      () =>
        Buffer.from(
          "put /v2/keys/fz/lc HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 7\r\n\r\nvalue=1",
        ),
    ],
    ["HTTP/1.0", () => Buffer.from("GET /v2/keys/fz HTTP/1.0\r\n\r\n")],
    ["HTTP/9.9", () => Buffer.from("GET /v2/keys/fz HTTP/9.9\r\nHost: x\r\n\r\n")],
    ["no host", () => Buffer.from("GET /v2/keys/fz HTTP/1.1\r\nConnection: close\r\n\r\n")],
    [
      "bad chunked",
      () =>
        Buffer.from(
          "PUT /v2/keys/fz/c HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\nzz\r\nvalue=1\r\n0\r\n\r\n",
        ),
    ],
    [
      "header without colon",
      () =>
        Buffer.from(
          "GET /v2/keys/fz HTTP/1.1\r\nHost: x\r\nBroken header\r\nConnection: close\r\n\r\n",
        ),
    ],
    [
      "huge header",
      () =>
        Buffer.from(
          `GET /v2/keys/fz HTTP/1.1\r\nHost: x\r\nX-Big: ${"h".repeat(2 * 1024 * 1024)}\r\nConnection: close\r\n\r\n`,
        ),
    ],
    [
      "absolute URI",
      () => Buffer.from("GET http://x/v2/keys/fz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
    ],
    ["asterisk", () => Buffer.from("OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")],
    [
      "duplicate content-length",
      () =>
        Buffer.from(
          "PUT /v2/keys/fz/d HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 7\r\nContent-Length: 8\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\nvalue=1",
        ),
    ],
  ];
  const [label, make] = r.pick(forms);
  const bytes = make();
  const method = bytes.toString("latin1").split(" ", 1)[0] ?? "";
  return { kind: "raw", bytes, label, write: !["GET", "HEAD", "OPTIONS"].includes(method) };
}

/** Body of an answer the server cut off: only its status is compared. */
const TRUNCATED = "<truncated>";

interface Outcome {
  readonly status: number;
  /** Normalised body (relative indexes, masked times and ttl). */
  readonly body: string;
}

function statusOfRaw(bytes: Buffer): number {
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(bytes.toString("latin1"));
  return m === null ? 0 : Number(m[1]);
}

interface Listed {
  key?: string;
  nodes?: Listed[];
}

/** Sorts listings at every level: without sorted=true their order is Go map order. */
function sortNodes(node: Listed | undefined): void {
  if (node?.nodes === undefined) return;
  // Keys that differ only in invalid UTF-8 all print as U+FFFD: tie-break
  // on the whole node.
  const order = (n: Listed) => `${n.key ?? ""}\u0000${JSON.stringify(n)}`;
  node.nodes.sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0));
  for (const child of node.nodes) sortNodes(child);
}

function normalise(text: string, base: number): string {
  let canonical = text;
  try {
    const parsed = JSON.parse(text) as { node?: Listed; prevNode?: Listed };
    sortNodes(parsed.node);
    sortNodes(parsed.prevNode);
    canonical = JSON.stringify(parsed);
  } catch {
    // not JSON: compare as is
  }
  return relativise(maskTimes(canonical), base).replace(/"ttl":~?-?\d+/g, '"ttl":<n>');
}

/** A short description of where two strings first differ (values can be megabytes). */
function firstDiff(a: string, b: string): string {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const window = (s: string) => JSON.stringify(s.slice(Math.max(0, i - 80), i + 120));
  return `differ at ${i} (lengths ${a.length}/${b.length}):\n    original ${window(a)}\n    replay   ${window(b)}`;
}

async function perform(target: Target, req: FuzzRequest, base: number): Promise<Outcome> {
  if (req.kind === "raw") {
    const bytes = await sendBytes(target.url, req.bytes, 500);
    return { status: statusOfRaw(bytes), body: "" };
  }
  if (req.watch) {
    // Long polls: hang up after 150 ms unless the server answered already.
    try {
      const res = await send(target.url, { ...req, timeoutMs: 150 });
      return { status: res.status, body: normalise(res.text, base) };
    } catch {
      return { status: 200, body: "<pending watch>" };
    }
  }
  let res: RawResponse;
  try {
    res = await send(target.url, { ...req, timeoutMs: 10_000 });
  } catch (error) {
    // The server hung up without an answer (e.g. on a huge body it will not
    // read). Allowed, as long as it keeps serving: the caller checks that.
    const code = (error as NodeJS.ErrnoException).code ?? "";
    if (code === "ECONNRESET" || code === "EPIPE") return { status: 0, body: `<${code}>` };
    throw error;
  }
  // Only the status is known when the answer was cut off (see RawResponse.complete).
  return {
    status: res.status,
    body: res.complete === false ? TRUNCATED : normalise(res.text, base),
  };
}

function isWrite(req: FuzzRequest): boolean {
  if (req.kind === "raw") return req.write;
  return !["GET", "HEAD", "OPTIONS"].includes(req.method);
}

/** Path (without query) of a request, for reading the keys it touched. */
function keyOf(req: FuzzRequest): string | undefined {
  if (req.kind !== "http") return undefined;
  return req.path.split("?")[0];
}

/** Raises a fresh target's index to exactly `index` with hidden warm-up writes. */
async function topUp(target: Target, index: number): Promise<void> {
  for (let i = 0; i < 1_000; i++) {
    const res = await send(target.url, { method: "GET", path: "/v2/keys/" });
    const current = Number(header(res, "x-etcd-index"));
    if (current === index) return;
    if (current > index) throw new Error(`fresh target is at index ${current}, past ${index}`);
    await send(target.url, {
      method: "PUT",
      path: "/v2/keys/_conformance_warmup",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "value=w",
    });
  }
}

async function snapshot(
  target: Target,
  keys: ReadonlySet<string>,
  base: number,
): Promise<string[]> {
  const out: string[] = [];
  const listing = await send(target.url, {
    method: "GET",
    path: `${PREFIX}?recursive=true&sorted=true`,
  });
  out.push(`listing ${listing.status} ${normalise(listing.text, base)}`);
  for (const key of [...keys].sort()) {
    const res = await send(target.url, {
      method: "GET",
      path: `${key}?sorted=true&recursive=true`,
    });
    out.push(`${key} ${res.status} ${normalise(res.text, base)}`);
  }
  return out;
}

const statusLog = new Map<TargetName, { statuses: number[]; requests: string[] }>();

describe("fuzz: random and malformed requests", () => {
  afterAll(() => {
    const etcd = statusLog.get("etcd");
    for (const name of CAIRN_TARGETS) {
      const cairn = statusLog.get(name);
      if (etcd === undefined || cairn === undefined) continue;
      const diffs = new Map<string, string[]>();
      etcd.statuses.forEach((s, i) => {
        const key = `etcd ${s} / ${name} ${cairn.statuses[i]}`;
        if (cairn.statuses[i] !== s) diffs.set(key, [...(diffs.get(key) ?? []), etcd.requests[i]!]);
      });
      const total = [...diffs.values()].reduce((a, b) => a + b.length, 0);
      const lines = [...diffs.entries()].map(
        ([k, reqs]) =>
          `\n  ${k}: ${reqs.length}, e.g.` +
          reqs
            .slice(0, 4)
            .map((r) => `\n      ${r.slice(0, 160)}`)
            .join(""),
      );
      console.log(
        `[fuzz] seed ${SEED}: ${total} of ${etcd.statuses.length} statuses differ between etcd and ${name}${lines.join("")}`,
      );
    }
  });

  for (const name of TARGETS) {
    test.concurrent(`${name}: no 5xx, no hang, and the store equals a replay of the valid writes (seed ${SEED})`, async () => {
      console.log(
        `[fuzz] ${name}: seed ${SEED}, ${COUNT} requests (CAIRN_FUZZ_SEED=${SEED} to replay)`,
      );
      const where = `seed ${SEED}, target ${name}`;
      const target = await startTarget(name);
      let fresh: Target | undefined;
      try {
        const r = prng(SEED);
        const base = Number(
          header(await send(target.url, { method: "GET", path: "/v2/keys/" }), "x-etcd-index"),
        );
        const bigLeft = { n: 2 };
        const valid: { req: FuzzRequest; outcome: Outcome }[] = [];
        const statuses: number[] = [];
        const requests: string[] = [];
        const touched = new Set<string>();
        for (let i = 0; i < COUNT; i++) {
          const req = generate(r, base, bigLeft);
          let outcome: Outcome;
          try {
            outcome = await perform(target, req, base);
          } catch (error) {
            throw new Error(
              `${where}: request #${i} ${describeReq(req)} failed: ${(error as Error).message}`,
            );
          }
          statuses.push(outcome.status);
          requests.push(describeReq(req));
          if (outcome.status === 0) {
            const alive = await send(target.url, {
              method: "GET",
              path: "/health",
              timeoutMs: 5_000,
            }).catch((e: Error) => e);
            // A 503 {"health":"false"} is a quorum read a starved host missed.
            const answered =
              !(alive instanceof Error) &&
              (alive.status === 200 ||
                (alive.status === 503 && alive.text === '{"health":"false"}\n'));
            if (!answered) {
              throw new Error(
                `${where}: server stopped answering after request #${i} ${describeReq(req)}`,
              );
            }
          }
          if (outcome.status >= 500) {
            throw new Error(
              `${where}: request #${i} ${describeReq(req)} answered ${outcome.status}: ${outcome.body.slice(0, 300)}`,
            );
          }
          // A write is a write method answered 2xx with a write's answer
          // (node:http upper-cases "get", so it arrives as a GET).
          const answeredGet =
            outcome.body.startsWith('{"action":"get"') || outcome.body === "<pending watch>";
          if (outcome.status >= 200 && outcome.status < 300 && isWrite(req) && !answeredGet) {
            valid.push({ req, outcome });
            const key = keyOf(req);
            if (key !== undefined) touched.add(key);
          }
        }
        statusLog.set(name, { statuses, requests });
        console.log(`[fuzz] ${name}: ${valid.length} valid writes to replay`);
        // A quorum read given one second: a starved host can miss it, so ask again.
        let health = 0;
        for (let i = 0; i < 10 && health !== 200; i++) {
          if (i > 0) await new Promise((r) => setTimeout(r, 1_000));
          health = (await send(target.url, { method: "GET", path: "/health" })).status;
        }
        expect(health, `${where}: /health after the run`).toBe(200);
        const after = await snapshot(target, touched, base);

        fresh = await startTarget(name);
        await topUp(fresh, base);
        for (const [n, { req, outcome }] of valid.entries()) {
          const again = await perform(fresh, req, base);
          const cut = again.body === TRUNCATED || outcome.body === TRUNCATED;
          if (again.status !== outcome.status || (!cut && again.body !== outcome.body)) {
            throw new Error(
              `${where}: replay of valid write ${n} ${describeReq(req)}: status ${outcome.status} then ${again.status}; body ${firstDiff(outcome.body, again.body)}`,
            );
          }
        }
        const replayed = await snapshot(fresh, touched, base);
        for (let n = 0; n < Math.max(after.length, replayed.length); n++) {
          if (after[n] !== replayed[n]) {
            throw new Error(
              `${where}: store after the fuzz vs replay of its ${valid.length} valid writes: ${firstDiff(after[n] ?? "", replayed[n] ?? "")}`,
            );
          }
        }
        expect(valid.length, `${where}: some writes were valid`).toBeGreaterThan(COUNT / 50);
      } finally {
        await target.stop();
        await fresh?.stop();
      }
    }, 240_000);
  }
});

function describeReq(req: FuzzRequest): string {
  if (req.kind === "raw") return `raw(${req.label})`;
  const body =
    req.body === undefined
      ? ""
      : ` body(${req.body.length}B ${JSON.stringify(req.body.subarray(0, 60).toString("latin1"))})`;
  return `${req.method} ${req.path.slice(0, 200)}${body}`;
}
