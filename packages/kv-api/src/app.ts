import { formatRfc3339Nano, type Micros } from "@cairn/v2store";
import { type Context, Hono } from "hono";
import type { Backend, MemberInfo, SelfStats } from "./backend.js";
import { goJsonKind, goJsonSyntaxError } from "./gojson.js";
import {
  answerResponse,
  type BaseHeaders,
  escapeGoPath,
  goHttpError,
  headersWith,
  json,
  messageError,
  methodNotAllowed,
  movedPermanently,
  muxCleanPath,
  notFoundPage,
  toByteString,
} from "./http.js";
import { goString, renderMessage } from "./json.js";
import { handleKeys, keysResponse, thrownAnswer } from "./keys.js";
import { corsBase, isKeysPath, parseTarget, targetFromUrl } from "./keys-route.js";
import { nowMicros } from "./time.js";

/** Options of {@link createKvApi}. */
export interface KvApiOptions {
  /**
   * `--cors`: allowed origins. `["*"]` (the default, as etcd) adds the CORS
   * headers to every response; otherwise a listed request `Origin` is echoed.
   */
  cors?: readonly string[];
  /** Clock in µs since the epoch used for TTLs (default: the wall clock). */
  clock?: () => Micros;
  /**
   * The raw request target (path and query exactly as received). Needed to
   * answer unclean paths with 301 as etcd does: some servers normalise
   * `/a/../b` before the app sees the URL. The default reads `incoming.url`
   * from the environment `@hono/node-server` passes, then falls back to the
   * request URL.
   */
  requestTarget?: (c: Context) => string | undefined;
}

/** Per-request values the middleware hands to the routes. */
type Env = {
  Variables: {
    base: BaseHeaders;
    /** The request method exactly as sent. */
    method: string;
    /** Decoded clean path. */
    path: string;
    rawQuery: string;
  };
};

const EMPTY: BaseHeaders = {};

/** Go's textproto.CanonicalMIMEHeaderKey: `x-etcd-index` → `X-Etcd-Index`. */
export function canonicalHeaderKey(k: string): string {
  return k.replace(/(^|-)([a-z])/g, (_m, sep: string, ch: string) => sep + ch.toUpperCase());
}

function defaultTarget(c: Context): string | undefined {
  const env = c.env as { incoming?: { url?: unknown } } | undefined;
  const url = env?.incoming?.url;
  return typeof url === "string" ? url : undefined;
}

function readMethod(c: Context): string | undefined {
  const env = c.env as { incoming?: { method?: unknown } } | undefined;
  const m = env?.incoming?.method;
  return typeof m === "string" ? m : undefined;
}

/** Raw target chars beyond latin-1 mean the server decoded UTF-8; go back to bytes. */
function targetBytes(t0: string): string {
  // An absolute-form target (`GET http://host/path`) addresses its path.
  const t =
    t0.charCodeAt(0) === 47
      ? t0
      : /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(t0)
        ? targetFromUrl(t0)
        : t0;
  for (let i = 0; i < t.length; i++) {
    if (t.charCodeAt(i) > 0xff) return toByteString(t);
  }
  return t;
}

function memberJson(m: MemberInfo): string {
  const list = (xs: string[]) => `[${xs.map(goString).join(",")}]`;
  return `{"id":"${m.id}","name":${goString(m.name)},"peerURLs":${list(m.peerURLs)},"clientURLs":${list(m.clientURLs)}}`;
}

function selfStatsJson(s: SelfStats): string {
  let out = `{"name":${goString(s.name)},"id":"${s.id}","state":"${s.state}","startTime":"${formatRfc3339Nano(s.startTime)}"`;
  out += `,"leaderInfo":{"leader":"${s.leaderInfo.leader}","uptime":"${s.leaderInfo.uptime}","startTime":"${formatRfc3339Nano(s.leaderInfo.startTime)}"}`;
  out += `,"recvAppendRequestCnt":${s.recvAppendRequestCnt}`;
  if (s.recvPkgRate) out += `,"recvPkgRate":${s.recvPkgRate}`;
  if (s.recvBandwidthRate) out += `,"recvBandwidthRate":${s.recvBandwidthRate}`;
  out += `,"sendAppendRequestCnt":${s.sendAppendRequestCnt}`;
  if (s.sendPkgRate) out += `,"sendPkgRate":${s.sendPkgRate}`;
  if (s.sendBandwidthRate) out += `,"sendBandwidthRate":${s.sendBandwidthRate}`;
  return `${out}}`;
}

/** Go's JSON rendering of a float64 (shortest repr; integers without a dot). */
function goFloat(x: number): string {
  if (!Number.isFinite(x)) return "0";
  const abs = Math.abs(x);
  if (abs !== 0 && (abs < 1e-6 || abs >= 1e21)) {
    return x.toExponential().replace(/e([+-])(\d)$/, "e$10$2");
  }
  return String(x);
}

const MEMBER_URL_SCHEMES = new Set(["http:", "https:", "unix:", "unixs:"]);

/** etcd's types.NewURLs checks (spec §9); returns sorted URLs or the error text. */
function validatePeerURLs(raw: unknown): string[] | string {
  if (raw === undefined || raw === null) return "no valid URLs given";
  if (!Array.isArray(raw)) {
    return `json: cannot unmarshal ${goJsonKind(raw)} into Go struct field .peerURLs of type []string`;
  }
  if (raw.length === 0) return "no valid URLs given";
  const out: string[] = [];
  for (const item of raw) {
    // Go leaves a null element as "", which then fails the scheme check.
    if (item !== null && typeof item !== "string") {
      return `json: cannot unmarshal ${goJsonKind(item)} into Go struct field .peerURLs of type string`;
    }
    const s = (item ?? "").trim();
    // Go's url.Parse is lenient; these are the checks etcd's NewURLs makes.
    if (s.startsWith(":")) return `parse ${goString(s)}: missing protocol scheme`;
    const m = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(s);
    const scheme = m === null ? "" : m[1]!.toLowerCase();
    if (!MEMBER_URL_SCHEMES.has(`${scheme}:`)) {
      return `URL scheme must be http, https, unix, or unixs: ${s}`;
    }
    const rest = s.slice(scheme.length + 1);
    let host = "";
    let path = "";
    if (rest.startsWith("//")) {
      const end = rest.slice(2).search(/[/?#]/);
      const authority = end === -1 ? rest.slice(2) : rest.slice(2, 2 + end);
      host = authority.slice(authority.lastIndexOf("@") + 1);
      if (end !== -1 && rest[2 + end] === "/") path = rest.slice(2 + end).split(/[?#]/)[0]!;
    }
    if (host.startsWith("[") && !host.includes("]")) {
      return `parse ${goString(s)}: missing ']' in host`;
    }
    if (!/^(\[[^\]]*\]:[^:]*|[^:[\]]*:[^:]*)$/.test(host)) {
      return `URL address does not have the form "host:port": ${s}`;
    }
    if (path !== "") return `URL must not contain a path: ${s}`;
    out.push(s);
  }
  return out.sort();
}

/**
 * Creates the client API app: `/v2/keys`, `/v2/members`, `/v2/machines`,
 * `/v2/stats/*`, `/version`, `/health`, with etcd 3.4.23's bytes (spec
 * `etcd-v2-api.md`). Serve it with any fetch-style server; nothing here is
 * runtime specific.
 */
export function createKvApi(backend: Backend, options: KvApiOptions = {}): Hono<Env> {
  const baseFor = corsBase(options.cors ?? ["*"]);
  const clock = options.clock ?? nowMicros;
  const readTarget = options.requestTarget ?? defaultTarget;

  const app = new Hono<Env>();

  app.onError((err, c) => {
    // Anything unexpected becomes an etcd-shaped error, never a stack trace.
    return answerResponse(thrownAnswer(c.get("base") ?? EMPTY, err));
  });
  app.notFound((c) => notFoundPage(c.get("base") ?? EMPTY));

  // Go's server and mux run before any handler: request-target decoding (a
  // bad escape is a bare 400), CORS, OPTIONS, and 301 for unclean paths.
  app.use(async (c, next) => {
    const base = baseFor(() => c.req.header("Origin"));
    c.set("base", base);
    // Go compares methods case-sensitively (`put` is not PUT); fetch's
    // Request upper-cases the standard ones, so prefer the raw token.
    c.set("method", readMethod(c) ?? c.req.method);
    const target = parseTarget(targetBytes(readTarget(c) ?? targetFromUrl(c.req.url)));
    if (target === undefined) {
      return new Response("400 Bad Request", {
        status: 400,
        headers: { "Content-Type": "text/plain; charset=utf-8", Connection: "close" },
      });
    }
    const { rawPath, rawQuery, path } = target;
    if (c.get("method") === "OPTIONS") {
      return new Response(null, {
        status: 200,
        headers: headersWith(base, { "Content-Length": "0" }),
      });
    }
    const clean = muxCleanPath(path);
    if (clean !== path) {
      const loc = escapeGoPath(toByteString(clean)) + (rawQuery === "" ? "" : `?${rawQuery}`);
      return movedPermanently(base, c.get("method"), loc);
    }
    c.set("path", path);
    c.set("rawQuery", rawQuery);
    // Go's mux routes on the decoded path: `/v2/keys%2Fa` is key `/a`, which
    // the router (matching the raw path) would not find.
    if (isKeysPath(path) && !isKeysPath(rawPath)) c.res = await keysHandler(c);
    else await next();
    if (c.get("method") === "HEAD" && c.res.body !== null) {
      // Go computes Content-Length from the body it then does not send.
      const res = c.res;
      const length = (await res.arrayBuffer()).byteLength;
      // A plain record keeps Go's canonical header spelling on the wire.
      const headers: Record<string, string> = {};
      res.headers.forEach((v, k) => {
        headers[canonicalHeaderKey(k)] = v;
      });
      headers["Content-Length"] = String(length);
      c.res = new Response(null, { status: res.status, headers });
    }
    return undefined;
  });

  // ---- /v2/keys ----------------------------------------------------------
  const keys = new Hono<Env>();
  const keysHandler = async (c: Context<Env>) => {
    const path = c.get("path");
    const answer = await handleKeys({ backend, clock }, c.get("base"), {
      method: c.get("method"),
      rest: path.slice("/v2/keys".length),
      rawQuery: c.get("rawQuery"),
      contentType: c.req.header("Content-Type") ?? null,
      body: () => c.req.raw.body,
      bodyBytes: () => c.req.raw.arrayBuffer(),
      contentLength: c.req.header("Content-Length") ?? null,
    });
    return keysResponse(answer, c.req.raw.signal);
  };
  keys.all("/", keysHandler);
  keys.all("/*", keysHandler);
  app.route("/v2/keys", keys);

  // ---- /v2/members -------------------------------------------------------
  const members = new Hono<Env>();
  const membersHandler = async (c: Context<Env>) => {
    const base = c.get("base");
    const m = c.get("method");
    if (m !== "GET" && m !== "POST" && m !== "DELETE" && m !== "PUT") {
      return methodNotAllowed(base, "GET,POST,DELETE,PUT");
    }
    const h = headersWith(base, { "X-Etcd-Cluster-Id": backend.clusterId });
    let sub = c.get("path").slice("/v2/members".length);
    if (sub.startsWith("/")) sub = sub.slice(1);
    if (m === "GET") {
      if (sub === "") {
        const list = await backend.members();
        return json(h, 200, `{"members":[${list.map(memberJson).join(",")}]}\n`);
      }
      if (sub === "leader") {
        const leader = await backend.leader();
        if (leader === undefined) return messageError(h, 503, renderMessage("During election"));
        return json(h, 200, `${memberJson(leader)}\n`);
      }
      return messageError(h, 404, renderMessage("Not found"));
    }
    let id: string | undefined;
    if (m === "DELETE" || m === "PUT") {
      if (sub === "") return goHttpError(h, 405, "Method Not Allowed");
      if (!/^[0-9a-fA-F]{1,16}$/.test(sub)) {
        return messageError(h, 404, renderMessage(`No such member: ${sub}`));
      }
      id = BigInt(`0x${sub}`).toString(16);
      if (m === "DELETE") {
        const r = await backend.removeMember(id);
        if (r.error !== undefined) {
          return messageError(h, r.error.status, renderMessage(r.error.message));
        }
        return new Response(null, { status: 204, headers: h });
      }
    }
    // POST, PUT: a JSON body with peerURLs.
    let ct = c.req.header("Content-Type") ?? "";
    const semi = ct.indexOf(";");
    if (semi !== -1) ct = ct.slice(0, semi).toLowerCase().trim();
    if (ct !== "application/json") {
      return messageError(h, 415, renderMessage(`Bad Content-Type ${ct}, accept application/json`));
    }
    const text = await c.req.text();
    const syntax = goJsonSyntaxError(text);
    if (syntax !== undefined) return messageError(h, 400, renderMessage(syntax));
    const body: unknown = JSON.parse(text);
    const peerURLs =
      typeof body === "object" && body !== null && !Array.isArray(body)
        ? validatePeerURLs((body as { peerURLs?: unknown }).peerURLs)
        : body === null
          ? validatePeerURLs(undefined)
          : `json: cannot unmarshal ${goJsonKind(body)} into Go value of type struct { PeerURLs []string "json:\\"peerURLs\\"" }`;
    if (typeof peerURLs === "string") return messageError(h, 400, renderMessage(peerURLs));
    if (m === "POST") {
      const r = await backend.addMember(peerURLs);
      if (r.error !== undefined || r.member === undefined) {
        const e = r.error ?? { status: 500, message: "Internal Server Error" };
        return messageError(h, e.status, renderMessage(e.message));
      }
      return json(h, 201, `${memberJson(r.member)}\n`);
    }
    const r = await backend.updateMember(id!, peerURLs);
    if (r.error !== undefined) {
      return messageError(h, r.error.status, renderMessage(r.error.message));
    }
    return new Response(null, { status: 204, headers: h });
  };
  members.all("/", membersHandler);
  members.all("/*", membersHandler);
  app.route("/v2/members", members);

  // ---- /v2/machines, /v2/stats, /version, /health -------------------------
  app.all("/v2/machines", async (c) => {
    const base = c.get("base");
    const m = c.get("method");
    if (m !== "GET" && m !== "HEAD") return methodNotAllowed(base, "GET,HEAD");
    const urls = (await backend.members()).flatMap((x) => x.clientURLs).sort();
    const body = urls.join(", ");
    const headers = headersWith(base, { "Content-Type": "text/plain; charset=utf-8" });
    if (m === "HEAD") {
      return new Response(null, {
        status: 200,
        headers: headersWith(headers, {
          "Content-Length": String(new TextEncoder().encode(body).length),
        }),
      });
    }
    return new Response(body, { status: 200, headers });
  });

  const stats = new Hono<Env>();
  stats.all("/self", async (c) => {
    const base = c.get("base");
    if (c.get("method") !== "GET") return methodNotAllowed(base, "GET");
    return json(base, 200, selfStatsJson(await backend.selfStats()));
  });
  stats.all("/leader", async (c) => {
    const base = c.get("base");
    if (c.get("method") !== "GET") return methodNotAllowed(base, "GET");
    const s = await backend.leaderStats();
    if (s === undefined) return messageError(base, 403, renderMessage("not current leader"));
    const followers = Object.entries(s.followers)
      .map(
        ([id, f]) =>
          `"${id}":{"latency":{"current":${goFloat(f.latency.current)},"average":${goFloat(f.latency.average)},"standardDeviation":${goFloat(f.latency.standardDeviation)},"minimum":${goFloat(f.latency.minimum)},"maximum":${goFloat(f.latency.maximum)}},"counts":{"fail":${f.counts.fail},"success":${f.counts.success}}}`,
      )
      .join(",");
    return json(base, 200, `{"leader":"${s.leader}","followers":{${followers}}}`);
  });
  stats.all("/store", async (c) => {
    const base = c.get("base");
    if (c.get("method") !== "GET") return methodNotAllowed(base, "GET");
    const s = await backend.storeStats();
    const body = `{"getsSuccess":${s.getsSuccess},"getsFail":${s.getsFail},"setsSuccess":${s.setsSuccess},"setsFail":${s.setsFail},"deleteSuccess":${s.deleteSuccess},"deleteFail":${s.deleteFail},"updateSuccess":${s.updateSuccess},"updateFail":${s.updateFail},"createSuccess":${s.createSuccess},"createFail":${s.createFail},"compareAndSwapSuccess":${s.compareAndSwapSuccess},"compareAndSwapFail":${s.compareAndSwapFail},"compareAndDeleteSuccess":${s.compareAndDeleteSuccess},"compareAndDeleteFail":${s.compareAndDeleteFail},"expireCount":${s.expireCount},"watchers":${s.watchers}}`;
    return json(base, 200, body);
  });
  app.route("/v2/stats", stats);

  app.all("/version", (c) => {
    const base = c.get("base");
    if (c.get("method") !== "GET") return methodNotAllowed(base, "GET");
    const v = backend.version();
    return json(
      base,
      200,
      `{"etcdserver":${goString(v.etcdserver)},"etcdcluster":${goString(v.etcdcluster)}}`,
    );
  });

  app.all("/health", async (c) => {
    const base = c.get("base");
    if (c.get("method") !== "GET") return methodNotAllowed(base, "GET");
    if (await backend.health()) {
      return new Response('{"health":"true"}', {
        status: 200,
        headers: headersWith(base, { "Content-Type": "text/plain; charset=utf-8" }),
      });
    }
    return goHttpError(base, 503, '{"health":"false"}');
  });

  return app;
}
