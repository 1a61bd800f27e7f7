import { type Logger, silentLogger } from "@cairn/server";
import type { DiscoveryBackend } from "./backend.js";
import { createdKey, TOKEN_PATTERN } from "./token.js";

/** Default age after which a token is collected (discovery.etcd.io keeps tokens a week). */
export const DEFAULT_TOKEN_TTL_MS = 7 * 24 * 60 * 60 * 1000;

/** What {@link sweepTokens} needs. */
export interface SweepOptions {
  /** Tokens created this long ago or earlier are deleted. */
  readonly ttlMs: number;
  /** The current time, ms since the epoch (injected, so tests control it). */
  readonly nowMs: number;
  readonly logger?: Logger;
}

/**
 * One pass of token garbage collection: deletes, with everything under them,
 * the token directories whose `_config/created` time is at least `ttlMs`
 * before `nowMs`. A token without a readable creation time is left alone and
 * logged (every token this service creates has one, written first). Returns
 * the tokens deleted, in store order.
 */
export async function sweepTokens(
  backend: DiscoveryBackend,
  options: SweepOptions,
): Promise<string[]> {
  const log = options.logger ?? silentLogger;
  const time = options.nowMs * 1000;
  const root = await backend.read(
    { key: "/", recursive: false, sorted: false, time },
    { linearizable: false },
  );
  if (root.error !== undefined) {
    throw new SweepError(`listing tokens failed: ${root.error.message} (${root.error.cause})`);
  }
  const deleted: string[] = [];
  for (const node of root.event?.node.nodes ?? []) {
    const token = node.key.slice(1);
    if (node.dir !== true || !TOKEN_PATTERN.test(token)) continue;
    const created = await backend.read(
      { key: createdKey(token), recursive: false, sorted: false, time },
      { linearizable: false },
    );
    const at = Date.parse(created.event?.node.value ?? "");
    if (Number.isNaN(at)) {
      log.warn("token without a creation time; not collected", { token });
      continue;
    }
    if (options.nowMs - at < options.ttlMs) continue;
    const result = await backend.propose({
      method: "DELETE",
      key: node.key,
      recursive: true,
      time,
    });
    // 100: deleted meanwhile (a second sweep, an operator); nothing to do.
    if (result.error !== undefined && result.error.errorCode !== 100) {
      throw new SweepError(`deleting token ${token} failed: ${result.error.message}`);
    }
    if (result.error === undefined) {
      deleted.push(token);
      log.info("collected token", { token, created: new Date(at).toISOString() });
    }
  }
  return deleted;
}

/** A GC pass could not list or delete tokens. */
export class SweepError extends Error {
  override readonly name = "SweepError";
  readonly code = "TOKEN_SWEEP";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
