import {
  cairnMemberProgram,
  type EtcdCluster,
  programOrSkip,
  type StartEtcdOptions,
  startEtcdCluster,
} from "@cairn/testkit";

/** A kind of v2 server the client suites run against, the same story for each. */
export interface ServerKind {
  readonly name: string;
  /** Installed / built here; a missing one is skipped with a loud line. */
  readonly available: boolean;
  /** A cluster of `size` members named m1, m2, … on free loopback ports. */
  start(size?: number): Promise<EtcdCluster>;
}

function kind(name: string, available: boolean, options: StartEtcdOptions): ServerKind {
  return {
    name,
    available,
    start: (size = 1) => startEtcdCluster(size, { namePrefix: "m", timeoutMs: 40_000, ...options }),
  };
}

const cairn = cairnMemberProgram();
if (cairn === undefined) {
  console.warn(
    "!!! SKIPPED: @cairn/client suites against a Cairn member: apps/cairn/dist/main.js is not built " +
      "(pnpm turbo run build --filter=@cairn/cairn...)",
  );
}

/**
 * The servers a suite runs against: etcd 3.4.23 (Debian's etcd-server) and
 * real Cairn member processes, each where it is available (a missing one
 * is named on stderr with `!!! SKIPPED`).
 */
export function servers(suite: string): ServerKind[] {
  return [
    kind("etcd 3.4.23", programOrSkip("etcd", `${suite} (against etcd 3.4.23)`) !== undefined, {}),
    kind("cairn member", cairn !== undefined, cairn === undefined ? {} : { program: cairn }),
  ].filter((s) => s.available);
}
