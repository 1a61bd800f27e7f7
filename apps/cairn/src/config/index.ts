/**
 * The member's configuration: etcd 3.4's flags and `ETCD_*` variables,
 * parsed and checked with etcd's rules and messages. Pure; the entry file
 * prints, logs and exits.
 */
export {
  checkBootstrap,
  formatInitialCluster,
  type InitialClusterMap,
  parseInitialClusterStrict,
} from "./bootstrap.js";
export { parseConfigFile } from "./config-file.js";
export { ConfigError, type ConfigErrorCode } from "./errors.js";
export { CAIRN_SECTION, FLAGS, type FlagKind, type FlagSpec, flagToEnv } from "./flags.js";
export { helpText, USAGE_TEXT } from "./help.js";
export {
  type Config,
  type ConfigNotice,
  DEFAULT_INITIAL_CLUSTER,
  DEFAULT_NAME,
  DEFAULT_SNAPSHOT_COUNT,
  type LogLevel,
  MAX_ELECTION_TIMEOUT_MS,
  type ParseResult,
  parseConfig,
} from "./parse.js";
export { checkUrl, isIpAddress, parseResolverAddress } from "./urls.js";
export { ETCD_COMPAT_VERSION, versionText } from "./version.js";
