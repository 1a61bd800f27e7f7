/**
 * etcd v2 error codes, messages and HTTP statuses (spec `etcd-v2-api.md` §8).
 * The messages are etcd's exact strings; clients match on them.
 */

/** Every error code etcd 3.4.23 defines for the v2 API, with its fixed message. */
export const V2_ERROR_MESSAGES: Readonly<Record<number, string>> = {
  100: "Key not found",
  101: "Compare failed",
  102: "Not a file",
  103: "Reached the max number of peers in the cluster",
  104: "Not a directory",
  105: "Key already exists",
  106: "The prefix of given key is a keyword in etcd",
  107: "Root is read only",
  108: "Directory not empty",
  109: "Peer address has existed",
  110: "The request requires user authentication",
  200: "Value is Required in POST form",
  201: "PrevValue is Required in POST form",
  202: "The given TTL in POST form is not a number",
  203: "The given index in POST form is not a number",
  204: "Value or TTL is required in POST form",
  205: "The given timeout in POST form is not a number",
  206: "Name is required in POST form",
  207: "Index or value is required",
  208: "Index and value cannot both be specified",
  209: "Invalid field",
  210: "Invalid POST form",
  211: "Value provided on refresh",
  212: "A TTL must be provided on refresh",
  300: "Raft Internal Error",
  301: "During Leader Election",
  400: "watcher is cleared due to etcd recovery",
  401: "The event in requested index is outdated and cleared",
  402: "The standby server is not connected",
  403: "The client is not connected",
  404: "The client is not known",
  500: "The error is unknown",
};

/** Named error codes used by the store and the API. */
export const ErrorCode = {
  KeyNotFound: 100,
  TestFailed: 101,
  NotFile: 102,
  NotDir: 104,
  NodeExist: 105,
  RootReadOnly: 107,
  DirNotEmpty: 108,
  Unauthorized: 110,
  PrevValueRequired: 201,
  TtlNaN: 202,
  IndexNaN: 203,
  InvalidField: 209,
  InvalidForm: 210,
  RefreshValue: 211,
  RefreshTtlRequired: 212,
  RaftInternal: 300,
  LeaderElect: 301,
  EventIndexCleared: 401,
} as const;

/** The HTTP status etcd answers for an error code (spec §8.1). */
export function statusOfErrorCode(code: number): number {
  switch (code) {
    case 100:
      return 404;
    case 101:
    case 105:
      return 412;
    case 102:
    case 108:
      return 403;
    case 110:
      return 401;
    case 300:
    case 301:
      return 500;
    default:
      return 400;
  }
}

/**
 * An etcd v2 error as plain data (what crosses process boundaries). `cause`
 * is omitted from the JSON body when empty; `index` is the store index at
 * the time of the error, 0 for request (parameter) errors.
 */
export interface V2ErrorData {
  readonly errorCode: number;
  readonly message: string;
  readonly cause: string;
  readonly index: number;
}

/** Builds the plain error data for a code with etcd's fixed message. */
export function v2ErrorData(errorCode: number, cause: string, index: number): V2ErrorData {
  return {
    errorCode,
    message: V2_ERROR_MESSAGES[errorCode] ?? "The error is unknown",
    cause,
    index,
  };
}

/**
 * Thrown by the store's read API (`get`, `watch`) for an etcd error. Carries
 * the same data as {@link V2ErrorData}; `apply` never throws it, it returns
 * the data instead.
 */
export class V2Error extends Error {
  override readonly name = "V2Error";
  /** Stable machine code, e.g. `V2_100`. */
  readonly code: string;
  constructor(
    readonly data: V2ErrorData,
    options?: { cause?: unknown },
  ) {
    // An answer, not a fault: etcd returns it as a value. No stack trace is
    // taken (where the runtime has `Error.stackTraceLimit`): on Node taking
    // one cost 15 µs per miss, as much as serving a whole GET.
    const ctor = Error as { stackTraceLimit?: number };
    const limit = ctor.stackTraceLimit;
    if (limit !== undefined) ctor.stackTraceLimit = 0;
    super(`${data.errorCode}: ${data.message} (${data.cause}) [${data.index}]`, options);
    if (limit !== undefined) ctor.stackTraceLimit = limit;
    this.code = `V2_${data.errorCode}`;
  }
}

/** Thrown when bytes given to {@link decodeRequest} or a snapshot image are not valid. */
export class V2CodecError extends Error {
  override readonly name = "V2CodecError";
  readonly code = "V2_CODEC";
}
