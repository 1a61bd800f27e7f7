/**
 * The systems under test, started the same way: etcd 3.4.23 and Cairn take
 * the same flags (Cairn accepts etcd's flag set), so one {@link SystemSpec}
 * per system plus one flag builder start either as a single member or a
 * 3-member cluster on 127.0.0.1, on free ports, in temporary data
 * directories. The harness stops exactly the processes it started.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  findProgram,
  freePorts,
  type ManagedProcess,
  type Runtime,
  sleep,
  startProcess,
  type TempDir,
  tempDir,
} from "@cairn/testkit";

/** Which implementation a figure belongs to. */
export type SystemKind = "etcd" | "cairn";

/** How to start one system's member processes. */
export interface SystemSpec {
  readonly kind: SystemKind;
  /** For tables and logs, e.g. `etcd 3.4.23` or `cairn@1a2b3c4 (node)`. */
  readonly label: string;
  readonly command: string;
  /** Arguments before the etcd flags (runtime flags and the entry file for Cairn). */
  readonly prefixArgs: readonly string[];
  /** Flags only this system needs (etcd serves v2 only with `--enable-v2=true`). */
  readonly extraFlags: readonly string[];
  readonly version: string;
  readonly runtime?: Runtime;
}

/** A member could not be started or did not become ready in time. */
export class MemberStartError extends Error {
  override readonly name = "MemberStartError";
  readonly code = "BENCH_MEMBER_START";
}

/** The repository root (where `pnpm-workspace.yaml` is). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 10; i++) {
    if (existsSync(join(dir, "pnpm-workspace.yaml"))) return dir;
    dir = dirname(dir);
  }
  throw new Error("bench: cannot find the repository root (pnpm-workspace.yaml)");
}

/** The path of Cairn's member entry, built or not. */
export function cairnEntry(): string {
  return join(repoRoot(), "apps", "cairn", "dist", "main.js");
}

/** `git rev-parse --short HEAD` of the repository, with `-dirty` when the tree has changes. */
export function cairnGitSha(): string {
  try {
    const root = repoRoot();
    const sha = execFileSync("git", ["rev-parse", "--short", "HEAD"], {
      cwd: root,
      encoding: "utf8",
    }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--", "apps", "packages"], {
      cwd: root,
      encoding: "utf8",
    }).trim();
    return dirty === "" ? sha : `${sha}-dirty`;
  } catch {
    return "unknown";
  }
}

function firstLine(command: string, args: readonly string[]): string {
  try {
    return execFileSync(command, args, { encoding: "utf8", timeout: 10_000 })
      .split("\n")[0]!
      .trim();
  } catch {
    return "unknown";
  }
}

/**
 * The command that runs a JavaScript file under `runtime` as ONE process.
 * `node_modules/.bin/bun` and `.bin/deno` (what testkit's `runtimeCommand`
 * returns) are npm wrappers — a shell script and a Node script — that start
 * the real binary as a child and do not forward SIGTERM: stopping the wrapper
 * leaves the runtime running, and its CPU and RSS would be the wrapper's. So
 * the harness runs the binaries the `bun` and `deno` packages carry.
 */
export function runtimeBinary(runtime: Runtime): { command: string; args: string[] } {
  if (runtime === "node") return { command: process.execPath, args: [] };
  const modules = join(repoRoot(), "node_modules");
  const binary =
    runtime === "bun" ? join(modules, "bun", "bin", "bun.exe") : join(modules, "deno", "deno");
  if (!existsSync(binary)) {
    throw new Error(`bench: the ${runtime} binary is not at ${binary} (run pnpm install)`);
  }
  return {
    command: realpathSync(binary),
    args: runtime === "deno" ? ["run", "-A", "--quiet"] : [],
  };
}

/** The version line of a runtime (`v20.20.2`, `bun 1.4.5`, `deno 2.9.6`). */
export function runtimeVersion(runtime: Runtime): string {
  if (runtime === "node") return `node ${process.version}`;
  const { command } = runtimeBinary(runtime);
  // `bun --version` prints `1.4.5`; `deno --version` prints `deno 2.9.6 (stable, …)`.
  const m = /(\d+\.\d+\.\d+\S*)/.exec(firstLine(command, ["--version"]));
  return `${runtime} ${m?.[1] ?? "unknown"}`;
}

/** The etcd spec, or undefined when etcd is not installed. */
export function etcdSystem(): SystemSpec | undefined {
  const etcd = findProgram("etcd");
  if (etcd === undefined) return undefined;
  const v = /etcd Version: (\S+)/.exec(firstLine(etcd.path, ["--version"]));
  const version = v?.[1] ?? "unknown";
  return {
    kind: "etcd",
    label: `etcd ${version}`,
    command: etcd.path,
    prefixArgs: [],
    extraFlags: ["--enable-v2=true"],
    version,
  };
}

/**
 * Builds Cairn's member (`turbo run build --filter=<apps/cairn>...`, a cache
 * hit when nothing changed) so the harness measures the code in the tree.
 * Returns an error line when the build fails, undefined otherwise.
 */
export function buildCairn(): string | undefined {
  const root = repoRoot();
  const pkgFile = join(root, "apps", "cairn", "package.json");
  if (!existsSync(pkgFile)) return undefined;
  const name = (JSON.parse(readFileSync(pkgFile, "utf8")) as { name?: string }).name;
  if (name === undefined) return "apps/cairn/package.json has no name";
  try {
    execFileSync(
      join(root, "node_modules", ".bin", "turbo"),
      ["run", "build", `--filter=${name}...`, "--output-logs=errors-only"],
      {
        cwd: root,
        stdio: ["ignore", "ignore", "pipe"],
        env: { ...process.env, TURBO_TELEMETRY_DISABLED: "1" },
      },
    );
    return undefined;
  } catch (error) {
    return `building ${name} failed: ${(error as Error).message.split("\n")[0]}`;
  }
}

/**
 * The Cairn spec under `runtime`, or undefined when its entry file is not
 * built. `entry` overrides `apps/cairn/dist/main.js` (another build to compare).
 */
export function cairnSystem(runtime: Runtime, entry = cairnEntry()): SystemSpec | undefined {
  if (!existsSync(entry)) return undefined;
  const { command, args } = runtimeBinary(runtime);
  const sha = cairnGitSha();
  return {
    kind: "cairn",
    label: `cairn@${sha} (${runtimeVersion(runtime)})`,
    command,
    prefixArgs: [...args, entry],
    extraFlags: [],
    version: sha,
    runtime,
  };
}

/** One member process of a {@link Cluster}. */
export interface Member {
  readonly name: string;
  readonly clientUrl: string;
  readonly peerUrl: string;
  readonly dataDir: string;
  /** The flags it was (and will be re-)started with, without the command. */
  readonly args: readonly string[];
  /** Pid of the running process (undefined while stopped). */
  pid(): number | undefined;
  /** Output of the current process so far, for diagnostics. */
  stderrTail(): string;
  /** Stops the process gracefully (SIGTERM; SIGKILL after 10 s) and waits for its exit. */
  stop(): Promise<void>;
  /** Starts the process again with the same flags and data directory. */
  start(): void;
  /** True once `GET /health` answers `{"health":"true"}`. */
  healthy(): Promise<boolean>;
}

/** A running single member or cluster of one system. */
export interface Cluster {
  readonly system: SystemSpec;
  readonly members: readonly Member[];
  /** Pids of the running members. */
  pids(): number[];
  /** The member that reports `StateLeader` in `/v2/stats/self` (the first member if none says so). */
  leader(): Promise<Member>;
  /** Stops every member and removes the data directories. */
  stop(): Promise<void>;
}

/** How to start a cluster. */
export interface StartClusterOptions {
  readonly size: number;
  /** Extra etcd flags for every member (e.g. `--snapshot-count`). */
  readonly flags?: readonly string[];
  /** How long every member may take to be healthy (default 30 s). */
  readonly timeoutMs?: number;
}

/** True when `GET <clientUrl>/health` answers `{"health":"true"}` within a second. */
export async function isHealthy(clientUrl: string): Promise<boolean> {
  try {
    const res = await fetch(`${clientUrl}/health`, { signal: AbortSignal.timeout(1_000) });
    const body = (await res.json()) as { health?: unknown };
    return body.health === "true";
  } catch {
    return false;
  }
}

/** Waits until `member` is healthy, failing early if its process exits. */
export async function waitReady(member: Member, timeoutMs: number, intervalMs = 20): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (member.pid() === undefined) {
      throw new MemberStartError(
        `${member.name} exited before it was ready:\n${member.stderrTail()}`,
      );
    }
    if (await member.healthy()) return;
    if (performance.now() > deadline) {
      throw new MemberStartError(
        `${member.name} not healthy after ${timeoutMs} ms:\n${member.stderrTail()}`,
      );
    }
    await sleep(intervalMs);
  }
}

function makeMember(
  system: SystemSpec,
  spec: { name: string; clientUrl: string; peerUrl: string },
  dir: TempDir,
  args: string[],
): Member {
  let proc: ManagedProcess | undefined;
  const member: Member = {
    ...spec,
    dataDir: dir.path,
    args,
    pid: () => (proc === undefined || proc.hasExited() ? undefined : proc.pid),
    stderrTail: () => {
      if (proc === undefined) return "(not started)";
      return `${proc.stderr()}${proc.stdout()}`.slice(-2_000);
    },
    async stop() {
      if (proc !== undefined) await proc.stop("SIGTERM", 10_000);
    },
    start() {
      if (member.pid() !== undefined) throw new MemberStartError(`${spec.name} is already running`);
      proc = startProcess(system.command, {
        args: [...system.prefixArgs, ...args],
        name: `${system.kind}:${spec.name}`,
        // A member's own logs go to a pipe we keep for diagnostics; nothing
        // else in its environment changes between systems.
        env: process.env,
      });
    },
    healthy: () => isHealthy(spec.clientUrl),
  };
  return member;
}

const liveClusters = new Set<Cluster>();

/**
 * Stops every cluster started through {@link startCluster} that is still up
 * (the harness calls it on SIGINT/SIGTERM so an interrupted run leaves no
 * member and no data directory behind).
 */
export async function stopAllClusters(): Promise<void> {
  await Promise.all([...liveClusters].map((c) => c.stop()));
}

async function startOnce(system: SystemSpec, options: StartClusterOptions): Promise<Cluster> {
  const ports = await freePorts(options.size * 2);
  const token = `cairn-bench-${process.pid}-${Date.now()}`;
  const specs = Array.from({ length: options.size }, (_, i) => ({
    name: `${system.kind}${i + 1}`,
    clientUrl: `http://127.0.0.1:${ports[2 * i]}`,
    peerUrl: `http://127.0.0.1:${ports[2 * i + 1]}`,
  }));
  const initialCluster = specs.map((s) => `${s.name}=${s.peerUrl}`).join(",");
  const dirs: TempDir[] = [];
  const members = specs.map((spec) => {
    const dir = tempDir(`cairn-bench-${system.kind}-`);
    dirs.push(dir);
    return makeMember(system, spec, dir, [
      ...["--name", spec.name, "--data-dir", dir.path],
      ...["--listen-client-urls", spec.clientUrl, "--advertise-client-urls", spec.clientUrl],
      ...["--listen-peer-urls", spec.peerUrl, "--initial-advertise-peer-urls", spec.peerUrl],
      ...["--initial-cluster", initialCluster, "--initial-cluster-token", token],
      ...["--initial-cluster-state", "new"],
      ...system.extraFlags,
      ...(options.flags ?? []),
    ]);
  });
  const stop = async () => {
    await Promise.all(members.map((m) => m.stop()));
    for (const d of dirs) d.remove();
    liveClusters.delete(cluster);
  };
  const cluster: Cluster = {
    system,
    members,
    pids: () => members.map((m) => m.pid()).filter((p): p is number => p !== undefined),
    async leader() {
      for (const m of members) {
        try {
          const res = await fetch(`${m.clientUrl}/v2/stats/self`, {
            signal: AbortSignal.timeout(2_000),
          });
          const body = (await res.json()) as { state?: unknown };
          if (body.state === "StateLeader") return m;
        } catch {
          // not answering stats: try the next member
        }
      }
      return members[0]!;
    },
    stop,
  };
  liveClusters.add(cluster);
  try {
    for (const m of members) m.start();
    await Promise.all(members.map((m) => waitReady(m, options.timeoutMs ?? 30_000)));
  } catch (error) {
    await stop();
    throw error;
  }
  return cluster;
}

/**
 * Starts `options.size` members of `system` and waits until each is healthy.
 * A port taken by someone else between choosing and binding it makes a member
 * exit; the whole cluster is then retried once on fresh ports.
 */
export async function startCluster(
  system: SystemSpec,
  options: StartClusterOptions,
): Promise<Cluster> {
  try {
    return await startOnce(system, options);
  } catch (error) {
    if (!(error instanceof MemberStartError) || !/address already in use/i.test(error.message)) {
      throw error;
    }
    return startOnce(system, options);
  }
}
