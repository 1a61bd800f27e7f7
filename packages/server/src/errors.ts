/** Base of the member's own errors; `code` is stable for callers and logs. */
export class MemberError extends Error {
  override name = "MemberError";
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** A proposal or a linearizable read did not complete before its deadline. */
export class RequestTimeoutError extends MemberError {
  override name = "RequestTimeoutError";
  constructor(what: string) {
    super("ERR_REQUEST_TIMEOUT", `${what} timed out`);
  }
}

/** The member is stopping or stopped; the request was not (or may not have been) applied. */
export class MemberStoppedError extends MemberError {
  override name = "MemberStoppedError";
  constructor() {
    super("ERR_MEMBER_STOPPED", "etcdserver: server stopped");
  }
}

/** Bootstrap refused to start the member (already bootstrapped, mismatched peers, …). */
export class BootstrapError extends MemberError {
  override name = "BootstrapError";
  constructor(message: string, options?: { cause?: unknown }) {
    super("ERR_BOOTSTRAP", message, options);
  }
}

/** A membership change was refused before it was proposed. */
export class MembershipError extends MemberError {
  override name = "MembershipError";
  /** What etcd's members API answers for it. */
  readonly status: 404 | 409 | 410 | 412 | 500;
  constructor(status: 404 | 409 | 410 | 412 | 500, message: string) {
    super("ERR_MEMBERSHIP", message);
    this.status = status;
  }
}
