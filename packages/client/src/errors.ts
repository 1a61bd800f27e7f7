/**
 * Errors of the v2 client. One class per condition, each with a stable
 * `code`; the `message` texts mirror etcd's Go client (etcd-io/etcd
 * `client/v2`) because `cairnctl` prints them verbatim, as etcdctl does.
 */

/** The body of a v2 keys error, as the server sends it (etcd-v2-api.md §8.1). */
export interface EtcdErrorBody {
  readonly errorCode: number;
  readonly message: string;
  readonly cause?: string;
  readonly index: number;
}

/**
 * A v2 API error returned by the server for a keys request: `errorCode`,
 * `message`, `cause` and `index` exactly as in the response body.
 * `toString()`/`message` read like etcdctl's `100: Key not found (/k) [31]`.
 */
export class EtcdError extends Error {
  override readonly name: string = "EtcdError";
  /** Stable code of this error class. */
  readonly code: string = "ETCD_ERROR";
  /** The v2 error code (100 Key not found, 101 Compare failed, …). */
  readonly errorCode: number;
  /** The server's fixed message text for `errorCode`. */
  readonly etcdMessage: string;
  /** The detail the server attached (usually the key), or `""`. */
  override readonly cause: string;
  /** The store index at the time of the error (`0` for parameter errors). */
  readonly index: number;
  /** HTTP status of the response. */
  readonly status: number;

  constructor(body: EtcdErrorBody, status: number) {
    super(`${body.errorCode}: ${body.message} (${body.cause ?? ""}) [${body.index}]`);
    this.errorCode = body.errorCode;
    this.etcdMessage = body.message;
    this.cause = body.cause ?? "";
    this.index = body.index;
    this.status = status;
  }

  /** The error as etcd's JSON body (without the trailing newline). */
  toJSON(): EtcdErrorBody {
    const body: { errorCode: number; message: string; cause?: string; index: number } = {
      errorCode: this.errorCode,
      message: this.etcdMessage,
      index: this.index,
    };
    if (this.cause !== "") body.cause = this.cause;
    return body;
  }
}

/**
 * Error 401, "The event in requested index is outdated and cleared": a watch
 * asked for a `waitIndex` older than the server's event history (etcd keeps
 * the last 1000 events, etcd-v2-api.md §7). Events between `requestedIndex`
 * and `oldestIndex` are lost; the documented recovery is to re-read the key
 * (or directory) and watch again from the `index` of that read + 1.
 */
export class EventIndexClearedError extends EtcdError {
  override readonly name = "EventIndexClearedError";
  override readonly code = "EVENT_INDEX_CLEARED";
  /** Oldest index still in the server's history (from the cause), if known. */
  readonly oldestIndex: number | undefined;
  /** The `waitIndex` that was asked for (from the cause), if known. */
  readonly requestedIndex: number | undefined;

  constructor(body: EtcdErrorBody, status: number) {
    super(body, status);
    // cause: "the requested history has been cleared [<oldest>/<requested>]"
    const m = /\[(\d+)\/(\d+)\]/.exec(body.cause ?? "");
    this.oldestIndex = m ? Number(m[1]) : undefined;
    this.requestedIndex = m ? Number(m[2]) : undefined;
  }
}

/** Builds the right {@link EtcdError} subclass for a v2 error body. */
export function etcdErrorFromBody(body: EtcdErrorBody, status: number): EtcdError {
  return body.errorCode === 401
    ? new EventIndexClearedError(body, status)
    : new EtcdError(body, status);
}

/**
 * Every endpoint failed. Message and {@link ClusterUnavailableError.detail}
 * are etcd's `ClusterError` texts, e.g.
 * `client: etcd cluster is unavailable or misconfigured; error #0: dial tcp 127.0.0.1:1: connect: connection refused`.
 */
export class ClusterUnavailableError extends Error {
  override readonly name = "ClusterUnavailableError";
  readonly code = "CLUSTER_UNAVAILABLE";
  /** One error per endpoint tried, in the order tried. */
  readonly errors: readonly EndpointError[];

  constructor(errors: readonly EndpointError[]) {
    let message = "client: etcd cluster is unavailable or misconfigured";
    errors.forEach((e, i) => {
      message += `; error #${i}: ${e.message}\n`;
    });
    super(message, { cause: errors[0] });
    this.errors = errors;
  }

  /** One `error #i: <text>` line per endpoint, like Go's `ClusterError.Detail()`. */
  detail(): string {
    return this.errors.map((e, i) => `error #${i}: ${e.message}\n`).join("");
  }

  /** True when every endpoint failed at the connection level (nothing answered). */
  isConnectionFailure(): boolean {
    return this.errors.length > 0 && this.errors.every((e) => e.connection);
  }
}

/** Why one endpoint could not serve a request. */
export class EndpointError extends Error {
  override readonly name = "EndpointError";
  readonly code = "ENDPOINT_FAILED";
  /** The endpoint (base URL) that failed. */
  readonly endpoint: string;
  /** True when the failure was at the connection level (refused, reset, timed out). */
  readonly connection: boolean;
  /**
   * True when the endpoint had answered (sent its headers) before the failure,
   * e.g. a long poll whose connection was cut later: the endpoint was reachable.
   */
  readonly answered: boolean;

  constructor(
    endpoint: string,
    message: string,
    connection: boolean,
    cause?: unknown,
    answered = false,
  ) {
    super(message, cause === undefined ? undefined : { cause });
    this.endpoint = endpoint;
    this.connection = connection;
    this.answered = answered;
  }
}

/** The call's total time budget ran out (Go: `context deadline exceeded`). */
export class ClientTimeoutError extends Error {
  override readonly name = "ClientTimeoutError";
  readonly code = "TIMEOUT";
  constructor(cause?: unknown) {
    super("context deadline exceeded", cause === undefined ? undefined : { cause });
  }
}

/** The caller aborted the call through its `signal` (Go: `context canceled`). */
export class ClientAbortedError extends Error {
  override readonly name = "ClientAbortedError";
  readonly code = "ABORTED";
  constructor(cause?: unknown) {
    super("context canceled", cause === undefined ? undefined : { cause });
  }
}

/** Member sync found no member with a published client URL. */
export class NoEndpointsError extends Error {
  override readonly name = "NoEndpointsError";
  readonly code = "NO_ENDPOINTS";
  constructor() {
    super("client: no endpoints available");
  }
}

/**
 * A non-keys endpoint (members, stats, health) answered with an unexpected
 * status. `message` is the server's `{"message": …}` text when there is one
 * (e.g. `membership: peerURL exists`), as etcdctl prints it.
 */
export class HttpStatusError extends Error {
  override readonly name = "HttpStatusError";
  readonly code = "HTTP_STATUS";
  readonly status: number;
  readonly body: string;
  constructor(status: number, body: string, message: string) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

/** The server's answer could not be decoded (not an etcd endpoint?). */
export class InvalidResponseError extends Error {
  override readonly name = "InvalidResponseError";
  readonly code = "INVALID_RESPONSE";
  constructor(message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
  }
}

/** A caller-supplied argument is invalid (e.g. a peer URL without scheme). */
export class InvalidArgumentError extends Error {
  override readonly name = "InvalidArgumentError";
  readonly code = "INVALID_ARGUMENT";
}
