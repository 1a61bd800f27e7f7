/**
 * `@cairn/kv-api`: etcd's v2 client API as a Hono app over the {@link Backend}
 * interface. See README.md.
 */
export { canonicalHeaderKey, createKvApi, type KvApiOptions } from "./app.js";
export type {
  Backend,
  KeyResult,
  LeaderStats,
  MemberChange,
  MemberInfo,
  ReadRequest,
  SelfStats,
  VersionInfo,
  WatchRequest,
  WatchSignal,
  WatchSink,
  WatchStart,
} from "./backend.js";
export { abortSignalOf } from "./backend.js";
export { corsHeaders, type PlainAnswer } from "./http.js";
export { goString, renderError, renderEvent, renderNode } from "./json.js";
export {
  type KeysAnswer,
  KeysWatch,
  WATCH_BUFFER,
  type WatchOutput,
} from "./keys.js";
export { createKeysRoute, type KeysCall, type KeysRoute, keysFetch } from "./keys-route.js";
export { LocalBackend, type LocalBackendOptions } from "./local-backend.js";
export { type RaftHead, readStore, watchStore } from "./store-backend.js";
