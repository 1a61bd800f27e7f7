/**
 * The servers a conformance case runs against:
 * - `etcd`: when Debian's etcd 3.4.23 is installed, a fresh single member
 *   with --enable-v2=true;
 * - `cairn`: the v2 API of this package over its in-process LocalBackend
 *   (test/support/cairn.ts);
 * - `cairn-member`: the real member binary (`apps/cairn/dist/main.js`) as a
 *   single-member cluster in a child process, with etcd's flags.
 * Each test file starts its own set and reuses it for all its cases.
 *
 * `CAIRN_CONFORMANCE_TARGETS` (comma-separated names; default
 * {@link DEFAULT_TARGETS}) narrows or widens the run, e.g. `etcd` alone to
 * check the expectations.
 * `CAIRN_CONFORMANCE_SELFTEST=1` puts a second etcd in Cairn's place: the
 * differential mode must then agree on every case, which checks that the
 * masking and relative indexes hide nothing but run-to-run noise.
 */

import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { send } from "./http.js";
import {
  freePorts,
  memberFlags,
  programOrSkip,
  startEtcd,
  startProcess,
  tempDir,
  waitFor,
} from "./testkit.js";

/** Which implementation a target is. */
export type TargetName = "etcd" | "cairn" | "cairn-member";

/** Every target, in report order. */
const ALL_TARGETS: readonly TargetName[] = ["etcd", "cairn", "cairn-member"];

/** What runs when `CAIRN_CONFORMANCE_TARGETS` is not set. */
export const DEFAULT_TARGETS = "etcd,cairn,cairn-member";

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

const requested = (process.env.CAIRN_CONFORMANCE_TARGETS ?? DEFAULT_TARGETS)
  .split(",")
  .map((s) => s.trim())
  .filter(Boolean);
for (const name of requested) {
  if (!(ALL_TARGETS as readonly string[]).includes(name)) {
    throw new Error(
      `CAIRN_CONFORMANCE_TARGETS: unknown target "${name}" (known: ${ALL_TARGETS.join(", ")})`,
    );
  }
}

const etcdProgram = requested.includes("etcd")
  ? programOrSkip("etcd", "the etcd side of the v2 conformance suite (differential mode)")
  : undefined;

/** The targets this run covers, in the order their results are reported. */
export const TARGETS: readonly TargetName[] = ALL_TARGETS.filter(
  (name) => requested.includes(name) && (name !== "etcd" || etcdProgram !== undefined),
);

/** The Cairn targets of this run (everything but etcd). */
export const CAIRN_TARGETS: readonly TargetName[] = TARGETS.filter((name) => name !== "etcd");

/**
 * True when etcd and at least one Cairn target run: every Cairn transcript
 * is then compared with etcd's.
 */
export const DIFFERENTIAL = TARGETS.includes("etcd") && CAIRN_TARGETS.length > 0;

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

/**
 * The member binary, built by `pnpm turbo run build --filter=@cairn/cairn...`
 * (`CAIRN_MEMBER_BINARY` points elsewhere, e.g. at another build).
 */
export const MEMBER_BINARY =
  process.env.CAIRN_MEMBER_BINARY ??
  fileURLToPath(new URL("../../../../../apps/cairn/dist/main.js", import.meta.url));

/**
 * A real single-member Cairn cluster: `node apps/cairn/dist/main.js` with
 * etcd's flags on free loopback ports and a fresh data directory, ready once
 * `GET /health` answers `{"health":"true"}`. A missing binary fails the
 * target (every case of it) with the command that builds it.
 */
async function startMember(options: CairnOptions): Promise<Target> {
  if (!existsSync(MEMBER_BINARY)) {
    const message =
      `!!! cairn-member: ${MEMBER_BINARY} is missing; build apps/cairn first: ` +
      "pnpm turbo run build --filter=@cairn/cairn... " +
      "(or leave cairn-member out of CAIRN_CONFORMANCE_TARGETS)";
    console.error(message);
    throw new Error(message);
  }
  const [clientPort, peerPort] = await freePorts(2);
  const clientUrl = `http://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const dir = tempDir("cairn-member-");
  const name = "cairn1";
  const args = [
    MEMBER_BINARY,
    ...memberFlags({ name, dataDir: dir.path, clientUrl, peerUrl }),
    "--initial-cluster",
    `${name}=${peerUrl}`,
    "--initial-cluster-token",
    `cairn-conformance-${process.pid}-${Date.now()}-${clientPort}`,
    "--initial-cluster-state",
    "new",
    ...(options.historySize === undefined
      ? []
      : ["--v2-history-size", String(options.historySize)]),
    ...(options.cors === undefined ? [] : ["--cors", options.cors.join(",")]),
  ];
  const proc = startProcess(process.execPath, { args, name: `cairn-member ${clientUrl}` });
  const stop = async () => {
    await proc.stop("SIGTERM", 3_000);
    dir.remove();
  };
  try {
    await waitFor(
      async () => {
        if (proc.hasExited()) {
          throw new Error(`cairn-member exited: ${proc.stderr().slice(-2000)}`);
        }
        const res = await fetch(`${clientUrl}/health`);
        return (await res.text()) === '{"health":"true"}';
      },
      { timeoutMs: 30_000, what: `cairn-member on ${clientUrl} healthy` },
    );
  } catch (error) {
    await stop();
    throw new Error(`cairn-member did not start: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return {
    name: "cairn-member",
    url: clientUrl,
    historySize: options.historySize ?? ETCD_HISTORY,
    stop,
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
      : name === "cairn-member"
        ? await startMember(cairn)
        : await startCairn(cairn);
  try {
    await warmUp(target, 10);
  } catch (error) {
    await target.stop();
    throw error;
  }
  return target;
}
