import { etcdProgram, startEtcd } from "@cairn/testkit";

/** A running v2 server the CLI tests talk to. */
export interface RunningTarget {
  /** Client URL (one member). */
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * A kind of server the golden and differential tests run against. The suites
 * take a list of these, so Cairn's own server joins by adding one entry
 * (`startCairnV2()` from packages/kv-api/test/support/cairn.ts, once it exists).
 */
export interface Target {
  readonly name: string;
  /** Whether the server is installed / buildable here (skipped loudly otherwise). */
  readonly available: boolean;
  start(): Promise<RunningTarget>;
}

/** etcd 3.4.23 with the v2 API, single member. */
export const etcdTarget: Target = {
  name: "etcd 3.4.23",
  available: etcdProgram() !== undefined,
  async start() {
    const cluster = await startEtcd();
    return { url: cluster.endpoints, stop: () => cluster.stop() };
  },
};

/** Every target the CLI suites run against. */
export const TARGETS: readonly Target[] = [etcdTarget];
