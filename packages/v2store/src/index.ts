/**
 * `@cairn/v2store`: etcd's v2 store as a pure, deterministic state machine.
 * See README.md.
 */
export { decodeRequest, encodeRequest } from "./codec.js";
export {
  ErrorCode,
  statusOfErrorCode,
  V2_ERROR_MESSAGES,
  V2CodecError,
  V2Error,
  type V2ErrorData,
  v2ErrorData,
} from "./errors.js";
export {
  cleanPath,
  DEFAULT_HISTORY_SIZE,
  type StoreWatch,
  V2Store,
  type V2StoreOptions,
  type WatchListener,
  type WatchOptions,
} from "./store.js";
export { formatRfc3339Nano } from "./time.js";
export type {
  ApplyResult,
  InternalRequest,
  Micros,
  QuorumGetRequest,
  SyncRequest,
  V2Action,
  V2Event,
  V2Node,
  V2Request,
  V2StoreStats,
  WriteRequest,
} from "./types.js";
