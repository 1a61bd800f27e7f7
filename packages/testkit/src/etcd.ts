import { freePorts } from "./ports.js";
import { type ManagedProcess, startProcess } from "./process.js";
import { findProgram } from "./programs.js";
import { type TempDir, tempDir } from "./temp.js";
import { waitFor } from "./wait.js";

/** One running etcd member started by a test. */
export interface EtcdMember {
  readonly name: string;
  readonly clientUrl: string;
  readonly peerUrl: string;
  readonly dataDir: string;
  readonly process: ManagedProcess;
}

/** A running etcd cluster started by a test; `stop()` ends it and removes its data. */
export interface EtcdCluster {
  readonly members: readonly EtcdMember[];
  /** Client URLs of all members, comma separated, as `--endpoints` takes them. */
  readonly endpoints: string;
  stop(): Promise<void>;
}

/** How to start etcd. */
export interface StartEtcdOptions {
  /** Serve the v2 API (default true, as Cairn's differential tests need it). */
  enableV2?: boolean;
  /** Extra flags for every member. */
  args?: readonly string[];
  /** How long to wait for the cluster to be healthy (default 40 s). */
  timeoutMs?: number;
  /**
   * Another program taking etcd's flags, e.g. a Cairn member:
   * `{ command: process.execPath, args: ["apps/cairn/dist/main.js"] }`
   * (`args` come before the member flags).
   */
  program?: { command: string; args?: readonly string[] };
  /** Members are named `<namePrefix>1`, `<namePrefix>2`, ... (default `etcd`). */
  namePrefix?: string;
}

/** What {@link memberFlags} needs of a member. */
export interface MemberAddress {
  readonly name: string;
  readonly dataDir: string;
  readonly clientUrl: string;
  readonly peerUrl: string;
}

/**
 * etcd's identity and address flags of one member on loopback: its name,
 * data directory, and the client and peer URLs it listens on and advertises.
 * Cairn members take exactly the same flags.
 */
export function memberFlags(m: MemberAddress): string[] {
  return [
    "--name",
    m.name,
    "--data-dir",
    m.dataDir,
    "--listen-client-urls",
    m.clientUrl,
    "--advertise-client-urls",
    m.clientUrl,
    "--listen-peer-urls",
    m.peerUrl,
    "--initial-advertise-peer-urls",
    m.peerUrl,
  ];
}

/** The etcd binary (Debian's etcd-server package), or undefined. */
export function etcdProgram() {
  return findProgram("etcd");
}

/**
 * Starts an `size`-member etcd 3.4 cluster on 127.0.0.1 with free ports and
 * temporary data directories, and waits until every member reports healthy.
 */
export async function startEtcdCluster(
  size: number,
  options: StartEtcdOptions = {},
): Promise<EtcdCluster> {
  const etcd = options.program ?? etcdProgram();
  if (etcd === undefined) throw new Error("etcd is not installed");
  const command = "command" in etcd ? etcd.command : etcd.path;
  const prefix = options.namePrefix ?? "etcd";
  const ports = await freePorts(size * 2);
  const token = `cairn-test-${process.pid}-${Date.now()}`;
  const specs = Array.from({ length: size }, (_, i) => ({
    name: `${prefix}${i + 1}`,
    clientUrl: `http://127.0.0.1:${ports[2 * i]}`,
    peerUrl: `http://127.0.0.1:${ports[2 * i + 1]}`,
  }));
  const initialCluster = specs.map((s) => `${s.name}=${s.peerUrl}`).join(",");
  const dirs: TempDir[] = [];
  const members: EtcdMember[] = specs.map((spec) => {
    const dir = tempDir(`cairn-${prefix}-`);
    dirs.push(dir);
    const args = [
      ...("command" in etcd ? (etcd.args ?? []) : []),
      ...memberFlags({ ...spec, dataDir: dir.path }),
      "--initial-cluster",
      initialCluster,
      "--initial-cluster-token",
      token,
      "--initial-cluster-state",
      "new",
      ...(options.enableV2 === false ? [] : ["--enable-v2=true"]),
      ...(options.args ?? []),
    ];
    const proc = startProcess(command, { args, name: spec.name });
    return { ...spec, dataDir: dir.path, process: proc };
  });
  const stop = async () => {
    await Promise.all(members.map((m) => m.process.stop("SIGTERM", 3_000)));
    for (const dir of dirs) dir.remove();
  };
  try {
    await Promise.all(
      members.map((m) =>
        waitFor(
          async () => {
            if (m.process.hasExited()) {
              throw new Error(`${m.name} exited: ${m.process.stderr().slice(-2000)}`);
            }
            const res = await fetch(`${m.clientUrl}/health`);
            const body = (await res.json()) as { health?: string };
            return body.health === "true";
          },
          { timeoutMs: options.timeoutMs ?? 40_000, what: `member ${m.name} healthy` },
        ),
      ),
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { members, endpoints: members.map((m) => m.clientUrl).join(","), stop };
}

/** Starts a single-member etcd; see {@link startEtcdCluster}. */
export async function startEtcd(options: StartEtcdOptions = {}): Promise<EtcdCluster> {
  return startEtcdCluster(1, options);
}
