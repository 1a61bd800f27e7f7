/**
 * The differential script: one command line per step, run in order against a
 * fresh server, once as `etcdctl` (ETCDCTL_API=2) and once as `cairnctl`.
 * `EP` is replaced by the server's URL, `DEAD`/`DEAD2` by URLs where nothing
 * listens. Steps build on each other (the state after step n is the same for
 * both tools), so order matters.
 */

import { PATIENT } from "./run.js";

/** One step: arguments and extra environment. */
export interface Step {
  readonly args: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
}

// Both tools get the same generous timeouts.
const e = (...args: string[]): Step => ({ args: [...PATIENT, "--endpoints", "EP", ...args] });

export const SCRIPT: readonly Step[] = [
  // help, version, usage errors
  { args: ["--version"] },
  { args: ["-v"] },
  { args: [] },
  { args: ["--help"] },
  { args: ["help"] },
  { args: ["help", "set"] },
  { args: ["h", "get"] },
  { args: ["set", "--help"] },
  { args: ["rmdir", "-h"] },
  { args: ["cluster-health", "--help"] },
  { args: ["watch", "--help"] },
  { args: ["exec-watch", "--help"] },
  { args: ["ls", "--help"] },
  { args: ["rm", "--help"] },
  { args: ["mk", "--help"] },
  { args: ["updatedir", "--help"] },
  { args: ["member"] },
  { args: ["member", "list", "--help"] },
  { args: ["member", "help", "add"] },
  { args: ["help", "member"] },
  { args: ["nosuchcmd"] },
  { args: ["help", "nosuch"] },
  { args: ["--bogus", "get", "/k"] },
  { args: ["-o"] },
  { args: ["--timeout", "5", "get", "/k"] },
  // keys
  e("set", "/c/a", "hello"),
  e("get", "/c/a"),
  e("-o", "extended", "get", "/c/a"),
  e("-o", "json", "get", "/c/a"),
  e("-o", "bogus", "get", "/c/a"),
  e("get"),
  e("get", "/c"),
  e("-o", "json", "get", "/c"),
  e("get", "/c/nokey"),
  e("-o", "json", "get", "/c/nokey"),
  e("set", "/c/a"),
  e("set"),
  e("set", "/c/a", "hello2", "--swap-with-value", "wrong"),
  e("set", "/c/a", "hello2", "--swap-with-value", "hello"),
  e("-o", "extended", "set", "/c/a", "h3", "--swap-with-index", "999"),
  e("set", "/c", "x"),
  e("mk", "/c/a", "x"),
  e("mk", "/c/b", "bee"),
  e("-o", "json", "mk", "/c/t", "tv", "--ttl", "100"),
  e("mk", "--in-order", "/q", "first"),
  e("-o", "json", "mk", "--in-order", "/q", "second"),
  e("mk", "--in-order", "/q", "v", "--ttl", "50"),
  e("update", "/c/b", "bee2"),
  e("update", "/c/none", "x"),
  e("-o", "extended", "update", "/c/b", "bee3", "--ttl", "30"),
  e("mkdir", "/d1"),
  e("mkdir", "/d1"),
  e("-o", "json", "mkdir", "/d2", "--ttl", "60"),
  e("-o", "extended", "mkdir", "/d4"),
  e("setdir", "/d3"),
  e("setdir", "/d3"),
  e("updatedir", "/d2", "--ttl", "90"),
  e("-o", "extended", "updatedir", "/d2"),
  e("updatedir", "/nodir"),
  e("set", "/d1/x", "1"),
  e("set", "/d1/sub/y", "2"),
  e("ls", "--sort"),
  e("ls", "--sort", "-p", "-r", "/"),
  e("ls", "/", "-r", "--sort"),
  e("ls", "/c/a"),
  e("ls", "/d4"),
  e("ls", "/nokey"),
  e("-o", "json", "ls", "--sort", "/c"),
  e("-o", "json", "ls", "--sort", "-r", "/d1"),
  e("-o", "extended", "ls", "/d1"),
  e("rm", "/d1"),
  e("rm", "--dir", "/d1"),
  e("rmdir", "/d1"),
  e("rm", "/c/a", "--with-value", "nope"),
  e("rm", "/c/a", "--with-index", "1"),
  e("rm", "/c/a", "--with-value", "hello2"),
  e("rm", "/c/b"),
  e("-o", "json", "rm", "/c/t"),
  e("rm", "--dir", "/d4"),
  e("rmdir", "/d3"),
  e("-o", "json", "rmdir", "/d2"),
  e("-o", "extended", "rm", "-r", "/d1"),
  e("rm", "-r", "/q"),
  e("rm", "/nokey"),
  e("rmdir"),
  e("rm"),
  e("set", "/v", "-5"),
  e("set", "--", "/v2", "-x"),
  e("get", "/v", "-q"),
  e("get", "--sort=nope", "/v"),
  e("get", "/v", "--quorum="),
  e("set", "/v", "1", "--ttl", "abc"),
  e("set", "/v", "1", "--ttl"),
  e("set", "---x", "/v"),
  e("set", "/esc", '<a>&"q" ü\t\\'),
  e("-o", "json", "get", "/esc"),
  e("set", "/sp ace/k?x#y", "v"),
  e("--debug", "get", "/sp ace/k?x#y"),
  e("--debug", "--no-sync", "set", "/dbg", "v", "--ttl", "10"),
  e("--debug", "mkdir", "/dbgdir"),
  e("--debug", "rm", "-r", "/dbgdir"),
  e("--debug", "mk", "--in-order", "/dq", "x"),
  e("--no-sync=false", "get", "/v"),
  // watches that return at once (history)
  e("watch"),
  e("watch", "/v", "--after-index", "1"),
  e("-o", "json", "watch", "/v", "--after-index", "1"),
  e("-o", "extended", "watch", "/v", "--after-index", "1"),
  e("watch", "/zz", "--after-index=zz"),
  e("exec-watch", "/k"),
  // members
  e("member", "list"),
  e("-o", "json", "member", "list"),
  e("member", "list", "x"),
  e("member", "list", "-x"),
  e("member", "add", "x"),
  e("member", "add", "m9", "127.0.0.1:9"),
  e("member", "remove"),
  e("member", "remove", "deadbeef"),
  e("member", "remove", "m1"),
  e("member", "update"),
  e("member", "update", "deadbeef", "http://127.0.0.1:9"),
  e("member", "bogus"),
  e("cluster-health"),
  // unreachable clusters and bad endpoints
  { args: ["--endpoints", "DEAD", "get", "/v"] },
  { args: ["--endpoints", "DEAD,DEAD2", "get", "/v"] },
  { args: ["--no-sync", "--endpoints", "DEAD", "get", "/v"] },
  { args: ["--endpoints", "DEAD", "member", "list"] },
  { args: ["--endpoints", "DEAD", "cluster-health"] },
  { args: ["--endpoints", "127.0.0.1:2379", "get", "/v"] },
  // environment precedence
  { args: ["get", "/v"], env: { ETCDCTL_ENDPOINTS: "EP" } },
  { args: ["--endpoints", "EP", "get", "/v"], env: { ETCDCTL_ENDPOINTS: "DEAD" } },
  { args: ["get", "/v"], env: { ETCDCTL_PEERS: "EP" } },
  { args: ["--peers", "EP", "get", "/v"], env: { ETCDCTL_ENDPOINT: "DEAD" } },
  { args: ["get", "/v"], env: { ETCDCTL_ENDPOINT: "EP", ETCDCTL_PEERS: "DEAD" } },
];

/** Fills in the placeholders of one step. */
export function bind(step: Step, urls: { EP: string; DEAD: string; DEAD2: string }): Step {
  const sub = (s: string) =>
    s.replaceAll("DEAD2", urls.DEAD2).replaceAll("DEAD", urls.DEAD).replace(/^EP$/, urls.EP);
  return {
    args: step.args.map(sub),
    ...(step.env
      ? { env: Object.fromEntries(Object.entries(step.env).map(([k, v]) => [k, sub(v)])) }
      : {}),
  };
}

/**
 * Makes two runs comparable: ports, member ids, timestamps, TTL countdowns,
 * indexes and in-order key names differ between servers; the program's own
 * name and version differ on purpose; `backup` and the auth commands are not
 * in cairnctl yet.
 */
export function mask(text: string): string {
  return text
    .replaceAll("etcdctl", "cairnctl")
    .replace(/cairnctl version: \S+/g, "cairnctl version: VERSION")
    .replace(/^ {3}(3\.4\.23|0\.1\.0)$/gm, "   VERSION")
    .replace(/^ {3}(backup|user|role|auth) .*\n/gm, "")
    .replace(/127\.0\.0\.1:\d+/g, "127.0.0.1:PORT")
    .replace(/\b[0-9a-f]{12,16}\b/g, "ID")
    .replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, "TIME")
    .replace(/"ttl":\d+/g, '"ttl":N')
    .replace(/TTL: [1-9]\d*/g, "TTL: N")
    .replace(/"(createdIndex|modifiedIndex)":\d+/g, '"$1":N')
    .replace(/(Created-Index|Modified-Index|Index): \d+/g, "$1: N")
    .replace(/\) \[\d+\]$/gm, ") [N]")
    .replace(/ != \d+\]/g, " != N]")
    .replace(/\[\d+ != /g, "[N != ")
    .replace(/\/(q|dq)\/\d{20}/g, "/$1/QKEY")
    .replace(/waitIndex=\d+/g, "waitIndex=N");
}
