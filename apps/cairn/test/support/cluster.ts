/**
 * A fixture for the end-to-end stories: real `cairn` member processes on
 * 127.0.0.1 with free ports and temporary data directories, started with
 * etcd's static-bootstrap flags, and the few HTTP helpers the stories need.
 * Everything it starts goes through testkit's `startProcess`, so a suite's
 * `afterAll(stopAll)` ends it.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, realpathSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  freePorts,
  type ManagedProcess,
  memberFlags,
  type Runtime,
  startProcess,
  type TempDir,
  tempDir,
  waitFor,
} from "@cairn/testkit";

const here = dirname(fileURLToPath(import.meta.url));
/** The built member binary (`pnpm turbo run build --filter=@cairn/cairn...`). */
export const MAIN = join(here, "..", "..", "dist", "main.js");
const REPO = join(here, "..", "..", "..", "..");

/** Short raft timings so stories run fast (etcd's rule: election ≥ 5 × heartbeat). */
export const HEARTBEAT_MS = 50;
export const ELECTION_MS = 500;
/** etcd's request timeout: 5 s + 2 × election timeout (spec bootstrap §5.2). */
export const REQUEST_TIMEOUT_MS = 5_000 + 2 * ELECTION_MS;

/**
 * The command running a JavaScript file under `runtime` as one process.
 * testkit's `runtimeCommand` returns `node_modules/.bin/{bun,deno}`, which are
 * npm wrapper scripts: a SIGKILL or SIGTERM reaches the wrapper, not the
 * member, which would then outlive the test. So this starts the binaries the
 * `bun` and `deno` packages carry.
 */
export function runtimeBinary(runtime: Runtime): { command: string; args: string[] } {
  if (runtime === "node") return { command: process.execPath, args: [] };
  const binary =
    runtime === "bun"
      ? join(REPO, "node_modules", "bun", "bin", "bun.exe")
      : join(REPO, "node_modules", "deno", "deno");
  if (!existsSync(binary)) throw new Error(`the ${runtime} binary is not at ${binary}`);
  return {
    command: realpathSync(binary),
    args: runtime === "deno" ? ["run", "-A", "--quiet"] : [],
  };
}

/** The environment for a member: ours without any ETCD_* variable (a flag and its variable together are fatal). */
function memberEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("ETCD_")) env[k] = v;
  return env;
}

/** One parsed JSON log line of a member. */
export interface LogLine {
  readonly level: string;
  readonly msg: string;
  readonly [field: string]: unknown;
}

/** One member of a {@link Cluster}: its addresses, data directory and (re)started processes. */
export class CairnMember {
  readonly name: string;
  readonly clientUrl: string;
  readonly peerUrl: string;
  readonly dataDir: string;
  readonly runtime: Runtime;
  /** The flags of the next start; stories may change them (e.g. the cluster state). */
  args: string[];
  #proc: ManagedProcess | undefined;
  /** stderr of earlier runs, so a story can look at a member's whole history. */
  #earlier = "";
  readonly #dir: TempDir;

  constructor(
    spec: { name: string; clientUrl: string; peerUrl: string; runtime: Runtime },
    args: string[],
  ) {
    this.name = spec.name;
    this.clientUrl = spec.clientUrl;
    this.peerUrl = spec.peerUrl;
    this.runtime = spec.runtime;
    this.#dir = tempDir(`cairn-e2e-${spec.name}-`);
    this.dataDir = this.#dir.path;
    this.args = args;
  }

  /** The running process (throws when the member was never started). */
  get process(): ManagedProcess {
    if (this.#proc === undefined) throw new Error(`${this.name} was never started`);
    return this.#proc;
  }

  /** True while a process of this member runs. */
  running(): boolean {
    return this.#proc !== undefined && !this.#proc.hasExited();
  }

  /** Starts the member with its flags (plus `extra`), on its runtime. */
  start(extra: readonly string[] = []): ManagedProcess {
    if (this.running()) throw new Error(`${this.name} is already running`);
    if (this.#proc !== undefined) this.#earlier += this.#proc.stderr();
    const { command, args } = runtimeBinary(this.runtime);
    this.#proc = startProcess(command, {
      args: [...args, MAIN, ...this.args, ...extra],
      env: memberEnv(),
      name: `${this.name}[${this.runtime}]`,
    });
    return this.#proc;
  }

  /** SIGKILL: a crash, nothing flushed or said goodbye. */
  async kill(): Promise<void> {
    await this.#proc?.stop("SIGKILL", 1_000);
  }

  /** SIGTERM and wait for a clean exit; returns the exit code or signal. */
  async terminate(): Promise<number | string | undefined> {
    return this.#proc?.stop("SIGTERM", 10_000);
  }

  /** Everything this member wrote to stderr, over all its runs. */
  stderr(): string {
    return this.#earlier + (this.#proc?.stderr() ?? "");
  }

  /** stderr of the current (or last) run only. */
  lastStderr(): string {
    return this.#proc?.stderr() ?? "";
  }

  /** The JSON log lines of all runs (other lines are skipped). */
  logs(): LogLine[] {
    const out: LogLine[] = [];
    for (const line of this.stderr().split("\n")) {
      if (!line.startsWith("{")) continue;
      try {
        out.push(JSON.parse(line) as LogLine);
      } catch {
        // a line cut short by a kill
      }
    }
    return out;
  }

  /** Log lines with message `msg`. */
  logged(msg: string): LogLine[] {
    return this.logs().filter((l) => l.msg === msg);
  }

  /** Empties the data directory (a disk that was replaced). */
  wipe(): void {
    if (this.running()) throw new Error(`${this.name} is running; stop it before wiping`);
    rmSync(this.dataDir, { recursive: true, force: true });
    mkdirSync(this.dataDir, { recursive: true });
  }

  /** Removes the data directory (after the process ended). */
  removeDir(): void {
    this.#dir.remove();
  }
}

/** How to start a cluster. */
export interface ClusterOptions {
  /** Members (default 3). */
  size?: number;
  /** Runtime of every member (default node). */
  runtime?: Runtime;
  /** Extra flags for every member, e.g. `["--snapshot-count", "20"]`. */
  args?: readonly string[];
  /** Bound on becoming healthy (default 40 s: the machine is shared and loaded). */
  timeoutMs?: number;
  /**
   * Also wait until every member lists every member with its name (default
   * true). etcd serves clients only once a member has published its name; the
   * story that checks exactly that turns this off.
   */
  waitPublished?: boolean;
  /**
   * Bootstrap by this discovery URL (`--discovery`) instead of a static
   * `--initial-cluster`; the cluster's `token` is then the URL (spec bootstrap §1).
   */
  discovery?: string;
}

/** Static-bootstrap flags of one member (spec bootstrap §2). */
export function memberArgs(
  m: { name: string; clientUrl: string; peerUrl: string; dataDir: string },
  initialCluster: string,
  token: string,
  state: "new" | "existing",
  extra: readonly string[],
): string[] {
  const [head, tail] = memberAddressArgs(m);
  return [
    ...head,
    "--initial-cluster",
    initialCluster,
    "--initial-cluster-token",
    token,
    "--initial-cluster-state",
    state,
    ...tail,
    ...extra,
  ];
}

/** Flags of one member bootstrapping by discovery URL (spec bootstrap §3), no `--initial-cluster`. */
export function discoveryMemberArgs(
  m: { name: string; clientUrl: string; peerUrl: string; dataDir: string },
  discoveryUrl: string,
  extra: readonly string[] = [],
): string[] {
  const [head, tail] = memberAddressArgs(m);
  return [...head, "--discovery", discoveryUrl, ...tail, ...extra];
}

/** Name, data dir and URL flags (before the bootstrap flags), and the raft timings (after). */
function memberAddressArgs(m: {
  name: string;
  clientUrl: string;
  peerUrl: string;
  dataDir: string;
}): [string[], string[]] {
  return [
    memberFlags(m),
    ["--heartbeat-interval", String(HEARTBEAT_MS), "--election-timeout", String(ELECTION_MS)],
  ];
}

let clusters = 0;

/** A set of members started from the same `--initial-cluster` and a token unique to this cluster. */
export class Cluster {
  readonly members: CairnMember[];
  readonly token: string;
  readonly runtime: Runtime;
  readonly #extra: readonly string[];

  private constructor(
    members: CairnMember[],
    token: string,
    runtime: Runtime,
    extra: readonly string[],
  ) {
    this.members = members;
    this.token = token;
    this.runtime = runtime;
    this.#extra = extra;
  }

  /** Starts `size` members with static flags and waits until each reports `{"health":"true"}`. */
  static async start(options: ClusterOptions = {}): Promise<Cluster> {
    const size = options.size ?? 3;
    const runtime = options.runtime ?? "node";
    const extra = options.args ?? [];
    const ports = await freePorts(size * 2);
    const token = options.discovery ?? `cairn-e2e-${process.pid}-${Date.now()}-${clusters++}`;
    const specs = Array.from({ length: size }, (_, i) => ({
      name: `m${i + 1}`,
      clientUrl: `http://127.0.0.1:${ports[2 * i]}`,
      peerUrl: `http://127.0.0.1:${ports[2 * i + 1]}`,
      runtime,
    }));
    const initialCluster = specs.map((s) => `${s.name}=${s.peerUrl}`).join(",");
    const members = specs.map((s) => {
      const m = new CairnMember(s, []);
      m.args =
        options.discovery === undefined
          ? memberArgs({ ...s, dataDir: m.dataDir }, initialCluster, token, "new", extra)
          : discoveryMemberArgs({ ...s, dataDir: m.dataDir }, options.discovery, extra);
      return m;
    });
    const cluster = new Cluster(members, token, runtime, extra);
    for (const m of members) m.start();
    await cluster.waitHealthy(members, options.timeoutMs ?? 40_000);
    if (options.waitPublished !== false) await cluster.waitPublished(members);
    return cluster;
  }

  /** `name=peerURL,...` of the given members (default all). */
  initialCluster(members: readonly CairnMember[] = this.members): string {
    return members.map((m) => `${m.name}=${m.peerUrl}`).join(",");
  }

  /**
   * A new member (not started) that will join with `--initial-cluster-state
   * existing` and `--initial-cluster` listing `peers` plus itself, as
   * `etcdctl member add` tells an operator to do (spec bootstrap §2).
   */
  async newMember(name: string, peers: readonly CairnMember[]): Promise<CairnMember> {
    const [client, peer] = await freePorts(2);
    const spec = {
      name,
      clientUrl: `http://127.0.0.1:${client}`,
      peerUrl: `http://127.0.0.1:${peer}`,
      runtime: this.runtime,
    };
    const m = new CairnMember(spec, []);
    const initial = [...peers.map((p) => `${p.name}=${p.peerUrl}`), `${name}=${spec.peerUrl}`];
    m.args = memberArgs(
      { ...spec, dataDir: m.dataDir },
      initial.join(","),
      this.token,
      "existing",
      this.#extra,
    );
    this.members.push(m);
    return m;
  }

  /** Members whose process runs. */
  running(): CairnMember[] {
    return this.members.filter((m) => m.running());
  }

  /** Waits until every one of `members` answers `/health` with `{"health":"true"}`. */
  async waitHealthy(
    members: readonly CairnMember[] = this.running(),
    timeoutMs = 30_000,
  ): Promise<void> {
    await Promise.all(
      members.map((m) =>
        waitFor(
          async () => {
            if (!m.running()) {
              throw new Error(`${m.name} exited: ${m.lastStderr().slice(-2_000)}`);
            }
            const res = await fetch(`${m.clientUrl}/health`, {
              signal: AbortSignal.timeout(2_000),
            });
            return (await res.text()) === '{"health":"true"}';
          },
          { timeoutMs, intervalMs: 100, what: `${m.name} healthy` },
        ).catch((error: unknown) => {
          const state = m.running() ? `running as pid ${m.process.pid}` : "exited";
          throw new Error(
            `${m.name} not healthy (${state}); stderr tail:\n${m.lastStderr().slice(-3_000)}`,
            {
              cause: error,
            },
          );
        }),
      ),
    );
  }

  /** Waits until each of `members` lists `members.length` members, each with a name. */
  async waitPublished(
    members: readonly CairnMember[] = this.running(),
    timeoutMs = 30_000,
  ): Promise<void> {
    await waitFor(
      async () => {
        const lists = await Promise.all(
          members.map(async (m) => (await request(m, "/v2/members", { timeoutMs: 2_000 })).json),
        );
        return lists.every((l) => {
          const list = (l as { members?: { name: string }[] } | undefined)?.members;
          return list?.length === members.length && list.every((x) => x.name !== "");
        });
      },
      { timeoutMs, intervalMs: 100, what: "every member's name published" },
    );
  }

  /**
   * The member that leads among `among` (default: the running ones): it says
   * `StateLeader` in `/v2/stats/self` and every other one names it as leader.
   */
  async leader(
    among: readonly CairnMember[] = this.running(),
    timeoutMs = 30_000,
  ): Promise<CairnMember> {
    return waitFor(
      async () => {
        const stats = await Promise.all(among.map((m) => selfStats(m).catch(() => undefined)));
        const leaders = stats.filter((s) => s?.state === "StateLeader");
        if (leaders.length !== 1) return undefined;
        const id = leaders[0]!.id;
        if (!stats.every((s) => s !== undefined && s.leaderInfo.leader === id)) return undefined;
        return among[stats.indexOf(leaders[0])];
      },
      { timeoutMs, intervalMs: 50, what: "one agreed leader" },
    );
  }

  /** Stops every running member (SIGKILL) and removes the data directories. */
  async destroy(): Promise<void> {
    await Promise.all(this.members.map((m) => m.kill()));
    for (const m of this.members) m.removeDir();
  }
}

// ------------------------------------------------------------- HTTP helpers

/** `/v2/stats/self` as the stories read it. */
export interface SelfStats {
  name: string;
  id: string;
  state: "StateLeader" | "StateFollower";
  leaderInfo: { leader: string };
}

/** GET `/v2/stats/self` of `m`. */
export async function selfStats(m: CairnMember): Promise<SelfStats> {
  const res = await fetch(`${m.clientUrl}/v2/stats/self`, { signal: AbortSignal.timeout(2_000) });
  if (!res.ok) throw new Error(`stats/self of ${m.name}: ${res.status}`);
  return (await res.json()) as SelfStats;
}

/** An HTTP answer with its body read. */
export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON (undefined when it is not JSON). */
  json: unknown;
}

async function answer(res: Response): Promise<Answer> {
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** A v2 node as the stories compare it. */
export interface V2Node {
  key: string;
  value?: string;
  dir?: boolean;
  nodes?: V2Node[];
  expiration?: string;
  ttl?: number;
  modifiedIndex: number;
  createdIndex: number;
}

/** Any HTTP request to a member's client URL; `timeoutMs` bounds it (default 15 s). */
export async function request(
  m: CairnMember,
  path: string,
  init: RequestInit & { timeoutMs?: number } = {},
): Promise<Answer> {
  const { timeoutMs, ...rest } = init;
  const res = await fetch(`${m.clientUrl}${path}`, {
    ...rest,
    signal: AbortSignal.timeout(timeoutMs ?? 15_000),
  });
  return answer(res);
}

/** `PUT /v2/keys<key>` with form fields. */
export function put(
  m: CairnMember,
  key: string,
  fields: Record<string, string>,
  timeoutMs?: number,
): Promise<Answer> {
  return request(m, `/v2/keys${key}`, {
    method: "PUT",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields).toString(),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  });
}

/** `GET /v2/keys<key>?<query>`. */
export function get(m: CairnMember, key: string, query = ""): Promise<Answer> {
  return request(m, `/v2/keys${key}${query === "" ? "" : `?${query}`}`);
}

// ------------------------------------------------------------- identity

function sha1First8(data: Uint8Array | string): bigint {
  const digest = createHash("sha1").update(data).digest();
  return digest.readBigUInt64BE(0);
}

/** etcd's bootstrap member id: SHA-1 over the sorted peer URLs and the token (spec bootstrap §1). */
export function expectedMemberId(peerUrls: readonly string[], token: string): string {
  return sha1First8([...peerUrls].sort().join("") + token).toString(16);
}

/** etcd's runtime-added member id: SHA-1 over the sorted peer URLs and the Unix seconds (spec §9). */
export function expectedAddedMemberId(peerUrls: readonly string[], unixSeconds: number): string {
  return sha1First8([...peerUrls].sort().join("") + String(unixSeconds)).toString(16);
}

/** etcd's cluster id: SHA-1 over the member ids sorted, each as 8 big-endian bytes (spec bootstrap §1). */
export function expectedClusterId(memberIds: readonly string[]): string {
  const ids = memberIds.map((h) => BigInt(`0x${h}`)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const bytes = Buffer.alloc(8 * ids.length);
  ids.forEach((id, i) => {
    bytes.writeBigUInt64BE(id, 8 * i);
  });
  return sha1First8(bytes).toString(16);
}
