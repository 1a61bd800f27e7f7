import { fileURLToPath } from "node:url";
import {
  cairnMemberProgram,
  type EtcdCluster,
  etcdProgram,
  type StartEtcdOptions,
  startEtcd,
  startEtcdCluster,
} from "@cairn/testkit";

/** A running v2 server the CLI tests talk to. */
export interface RunningTarget {
  /** Client URL (one member). */
  readonly url: string;
  stop(): Promise<void>;
}

/** A kind of server the golden, differential and cluster tests run against. */
export interface Target {
  readonly name: string;
  /** Whether the server is installed / built here (skipped loudly otherwise). */
  readonly available: boolean;
  start(): Promise<RunningTarget>;
  /** A cluster of `size` members (etcd's flags, free loopback ports, fresh data dirs). */
  startCluster(size: number): Promise<EtcdCluster>;
}

/** etcd 3.4.23 with the v2 API. */
export const etcdTarget: Target = {
  name: "etcd 3.4.23",
  available: etcdProgram() !== undefined,
  async start() {
    const cluster = await startEtcd(NAMES);
    return { url: cluster.endpoints, stop: () => cluster.stop() };
  },
  startCluster: (size) => startEtcdCluster(size, NAMES),
};

/**
 * How testkit starts a real Cairn member: node + the built binary, with
 * etcd's flags (turbo's `@cairn/cairnctl#test` depends on
 * `@cairn/cairn#build`; `CAIRN_MEMBER_BINARY` points elsewhere).
 */
const builtMember = cairnMemberProgram();
export const CAIRN_PROGRAM: NonNullable<StartEtcdOptions["program"]> = builtMember ?? {
  command: process.execPath,
  args: [fileURLToPath(new URL("../../../cairn/dist/main.js", import.meta.url))],
};
/** The member's entry file (the last of {@link CAIRN_PROGRAM}'s arguments). */
export const MEMBER_BINARY = CAIRN_PROGRAM.args?.at(-1) ?? "";

/**
 * Every target names its members m1, m2, ...: names show in `member list`,
 * so the differential run needs the same ones on both sides.
 */
const NAMES = { namePrefix: "m" } as const;

const cairnOptions = { program: CAIRN_PROGRAM, ...NAMES };

/** Real Cairn members (`apps/cairn/dist/main.js` child processes). */
export const cairnTarget: Target = {
  name: "cairn member",
  available: builtMember !== undefined,
  async start() {
    const cluster = await startEtcdCluster(1, { ...cairnOptions, timeoutMs: 40_000 });
    return { url: cluster.endpoints, stop: () => cluster.stop() };
  },
  startCluster: (size) => startEtcdCluster(size, { ...cairnOptions, timeoutMs: 40_000 }),
};

if (!cairnTarget.available) {
  console.warn(
    `!!! ${MEMBER_BINARY} is missing: the Cairn member target is skipped; ` +
      "build it with pnpm turbo run build --filter=@cairn/cairn...",
  );
}

/** Every target the CLI suites run against. */
export const TARGETS: readonly Target[] = [etcdTarget, cairnTarget];
