/**
 * Why bootstrap by discovery URL failed (spec bootstrap.md §3.5). Messages are
 * etcd 3.4.23's words (`etcdserver/api/v2discovery`), so an operator's
 * searches and scripts keep working.
 */

/** The conditions a discovery bootstrap can end in. */
export type DiscoveryErrorCode =
  /** The discovery URL itself does not parse as an http(s) URL. */
  | "BAD_URL"
  /** `--discovery-proxy` is not an address: `invalid proxy address "<text>"`. */
  | "BAD_PROXY"
  /** `T/_config/size` is not an unsigned integer: `discovery: size key is bad`. */
  | "BAD_SIZE_KEY"
  /** The service answered something that is not v2 JSON: `discovery: bad discovery endpoint`. */
  | "BAD_ENDPOINT"
  /** Our id is registered already (412/105 on the create-only PUT): `discovery: found duplicate id`. */
  | "DUPLICATE_ID"
  /** The first `size` registrations hold fewer than `size` names: `discovery: found duplicate name`. */
  | "DUPLICATE_NAME"
  /** A registration holds a URL etcd would refuse: `discovery: invalid URL`. */
  | "INVALID_URL"
  /** Two registrations share a peer URL: `discovery cluster <map> has duplicate url`. */
  | "DUPLICATE_URL"
  /** `size` members registered before us: `discovery: cluster is full` (no registration made). */
  | "FULL_CLUSTER"
  /**
   * A v2 error body from the service, passed on raw as etcd 3.4.23 does:
   * `100: Key not found (/<token>) [7]` for an unknown token or missing size
   * (3.4.23 never produces its intended "size key not found", spec §3.5).
   */
  | "SERVICE_ERROR"
  /** The service could not be reached on a step etcd does not retry (registration and its confirmation). */
  | "UNAVAILABLE";

/**
 * A failed discovery bootstrap. `message` is the inner error as etcd words it
 * (`discovery: cluster is full`); {@link DiscoveryError.summary} is the line the
 * member prints, `failed to join discovery cluster (<message>)` as etcd's
 * `DiscoveryError` renders it (except for duplicate URLs, which etcd reports
 * after discovery, unwrapped).
 */
export class DiscoveryError extends Error {
  override readonly name = "DiscoveryError";
  readonly code: DiscoveryErrorCode;
  /** The v2 `errorCode` of a `SERVICE_ERROR` (100: key not found, 105: node exists). */
  readonly errorCode: number | undefined;

  constructor(
    code: DiscoveryErrorCode,
    message: string,
    options: { cause?: unknown; errorCode?: number } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.errorCode = options.errorCode;
  }

  /** The one line to print before exiting 1. */
  get summary(): string {
    return this.code === "DUPLICATE_URL"
      ? this.message
      : `failed to join discovery cluster (${this.message})`;
  }
}

/** The conditions a DNS SRV bootstrap can end in (spec bootstrap.md §4.2). */
export type SrvErrorCode =
  /** Neither `_etcd-server-ssl` nor `_etcd-server` could be looked up. */
  | "LOOKUP_FAILED"
  /** An own advertised peer host, or every record's target, did not resolve. */
  | "RESOLVE_FAILED"
  /** No record resolves to this member's advertised peer address and port (with its scheme). */
  | "NOT_IN_RECORDS";

/**
 * A failed DNS SRV bootstrap. {@link SrvError.summary} is what the member prints
 * before exiting 1, in etcd 3.4.23's words: lookup and resolution failures
 * inside `couldn't resolve during SRV discovery (...)`, a member missing
 * from the records as `error setting up initial cluster: cannot find local
 * etcd member "<name>" in SRV records` (spec §4.2 step 4, §4.3).
 */
export class SrvError extends Error {
  override readonly name = "SrvError";
  readonly code: SrvErrorCode;

  constructor(code: SrvErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }

  /**
   * The one line to print before exiting 1. (Not called `line`: Bun gives
   * every Error an own `line` property, the source line it was made on, which
   * would hide a getter of that name.)
   */
  get summary(): string {
    return this.code === "NOT_IN_RECORDS"
      ? `error setting up initial cluster: ${this.message}`
      : `couldn't resolve during SRV discovery (${this.message})`;
  }
}
