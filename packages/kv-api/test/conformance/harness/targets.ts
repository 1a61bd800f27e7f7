/**
 * The servers a conformance case runs against: `cairn` (the v2 API of this
 * package, from test/support/cairn.ts) and, when Debian's etcd 3.4.23 is
 * installed, `etcd` (a fresh single member with --enable-v2=true). Each test
 * file starts its own pair and reuses it for all its cases.
 *
 * `CAIRN_CONFORMANCE_TARGETS=etcd` (or `cairn`, or `etcd,cairn`) narrows the
 * run, e.g. to check the expectations against etcd alone.
 * `CAIRN_CONFORMANCE_SELFTEST=1` puts a second etcd in Cairn's place: the
 * differential mode must then agree on every case, which checks that the
 * masking and relative indexes hide nothing but run-to-run noise.
 */

import { send } from "./http.js";
import { programOrSkip, startEtcd } from "./testkit.js";

/** Which implementation a target is. */
export type TargetName = "etcd" | "cairn";

/** A running server under test. */
export interface Target {
  readonly name: TargetName;
  readonly url: string;
  /** Events kept for `waitIndex` (spec §7): 1000 on etcd, configurable on Cairn. */
  readonly historySize: number;
  stop(): Promise<void>;
}

/** Options a test file asks of its Cairn server (the contract of test/support/cairn.ts). */
export interface CairnOptions {
  historySize?: number;
  cors?: string[];
}

const requested = (process.env.CAIRN_CONFORMANCE_TARGETS ?? "etcd,cairn")
  .split(",")
  .map((s) => s.trim())
  .filter(Boolean);

const etcdProgram = requested.includes("etcd")
  ? programOrSkip("etcd", "the etcd side of the v2 conformance suite (differential mode)")
  : undefined;

/** The targets this run covers, in the order their results are reported. */
export const TARGETS: readonly TargetName[] = [
  ...(etcdProgram !== undefined ? (["etcd"] as const) : []),
  ...(requested.includes("cairn") ? (["cairn"] as const) : []),
];

/** True when both targets run, so responses are compared with each other. */
export const DIFFERENTIAL = TARGETS.length === 2;

/** etcd's fixed event history (spec §7). */
export const ETCD_HISTORY = 1000;

async function startCairn(options: CairnOptions): Promise<Target> {
  // Imported lazily so the etcd side of the suite still runs while the
  // Cairn server is being built.
  const { startCairnV2 } = await import("../../support/cairn.js");
  const server = await startCairnV2(options);
  return {
    name: "cairn",
    url: server.url,
    historySize: options.historySize ?? ETCD_HISTORY,
    stop: () => server.stop(),
  };
}

async function startEtcdTarget(args: readonly string[]): Promise<Target> {
  const cluster = await startEtcd({ args });
  const member = cluster.members[0]!;
  return {
    name: "etcd",
    url: member.clientUrl,
    historySize: ETCD_HISTORY,
    stop: () => cluster.stop(),
  };
}

/**
 * Makes the store index at least `min` with writes to a hidden key, so that
 * small literal numbers used by cases (prevIndex=1, ...) never collide with
 * real indexes when results are made relative (spec §1.4).
 */
async function warmUp(target: Target, min: number): Promise<void> {
  for (let i = 0; i < min + 5; i++) {
    const res = await send(target.url, {
      method: "PUT",
      path: "/v2/keys/_conformance_warmup",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "value=w",
    });
    const index = Number(res.headers.find(([n]) => n === "x-etcd-index")?.[1] ?? "0");
    if (index >= min) return;
  }
}

/** Starts the named target; the returned target is warmed up and ready. */
export async function startTarget(
  name: TargetName,
  cairn: CairnOptions = {},
  etcdArgs: readonly string[] = [],
): Promise<Target> {
  const target =
    name === "etcd" || process.env.CAIRN_CONFORMANCE_SELFTEST === "1"
      ? { ...(await startEtcdTarget(etcdArgs)), name }
      : await startCairn(cairn);
  try {
    await warmUp(target, 10);
  } catch (error) {
    await target.stop();
    throw error;
  }
  return target;
}
