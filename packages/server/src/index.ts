/**
 * @cairn/server: one Cairn member — the raft core driven by real time, the
 * SQLite log, the v2 store it applies to, and the peer transport.
 */
export {
  BootstrapError,
  MemberError,
  MemberStoppedError,
  MembershipError,
  RequestTimeoutError,
} from "./errors.js";
export {
  bootstrapIdentity,
  computeAddedMemberId,
  computeClusterId,
  computeMemberId,
  formatId,
  parseId,
  parseInitialCluster,
} from "./identity.js";
export { type LogFields, type Logger, silentLogger } from "./logger.js";
export {
  CLUSTER_VERSION,
  Member,
  type MemberConfig,
  type MemberStatus,
  SERVER_VERSION,
} from "./member.js";
export { type MemberInfo, memberJson } from "./membership.js";
export {
  type BackupMemberOptions,
  type BackupMemberResult,
  backupMember,
  forceNewCluster,
  memberDataFile,
} from "./standalone.js";
export * from "./transport/index.js";
