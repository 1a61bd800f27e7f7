/**
 * Test support shared by Cairn's suites. Everything here starts real things
 * (processes, listeners, directories) on this machine only, bounds every wait,
 * and hands back a way to stop exactly what it started.
 */

export {
  type DnsQuery,
  type DnsRecords,
  type DnsServer,
  type SrvRecordSpec,
  startDnsServer,
} from "./dns.js";
export {
  type EtcdCluster,
  type EtcdMember,
  etcdProgram,
  type MemberAddress,
  memberFlags,
  type StartEtcdOptions,
  startEtcd,
  startEtcdCluster,
} from "./etcd.js";
export { type NatsServer, startNats } from "./nats.js";
export { freePort, freePorts } from "./ports.js";
export {
  type ManagedProcess,
  type StartProcessOptions,
  startProcess,
  stopAll,
} from "./process.js";
export { findProgram, type Program, programOrSkip } from "./programs.js";
export { cairnMemberProgram, RUNTIMES, type Runtime, runtimeCommand } from "./runtimes.js";
export { type TempDir, tempDir } from "./temp.js";
export { sleep, type WaitOptions, waitFor } from "./wait.js";
