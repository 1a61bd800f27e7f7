import type { Logger } from "../logger.js";
import { encodeFrames } from "./frames.js";
import { hexId, PEER_HEADERS, PEER_PATHS } from "./protocol.js";

/** Settings of the outgoing side of the peer transport. */
export interface PeerSenderOptions {
  readonly clusterId: bigint;
  readonly localId: bigint;
  readonly logger: Logger;
  /** Called once per failed batch so raft can mark the follower for probing. */
  readonly onUnreachable: (peer: bigint) => void;
  /** Called when a peer answers that this member was removed from the cluster. */
  readonly onRemoved: (by: bigint) => void;
  /** Injectable for tests; the global fetch otherwise. */
  readonly fetch?: typeof fetch;
  /** Most messages held for one peer while it is slow or down (oldest dropped first). */
  readonly maxQueuedMessages?: number;
  /** Most bytes sent in one request. */
  readonly maxBatchBytes?: number;
  /** Per-request timeout, milliseconds. */
  readonly requestTimeoutMs?: number;
}

interface PeerState {
  urls: string[];
  urlIndex: number;
  queue: Uint8Array[];
  queuedBytes: number;
  inflight: boolean;
  /** Milliseconds to wait before the next attempt after a failure; 0 when healthy. */
  backoffMs: number;
  timer: ReturnType<typeof setTimeout> | undefined;
  reachable: boolean;
  dropped: number;
  sentMessages: number;
  sentBytes: number;
  /** Round trips of successful requests, for `/v2/stats/leader` (ms). */
  latency: LatencyStats;
  failures: number;
  successes: number;
  /** When the link last became healthy (ms since the epoch); undefined while down. */
  activeSince: number | undefined;
}

/** Running round-trip statistics of one peer link, in milliseconds (etcd's `LatencyStats`). */
export interface LatencyStats {
  current: number;
  average: number;
  standardDeviation: number;
  minimum: number;
  maximum: number;
  /** Internal: sum of squares for the deviation. */
  sumOfSquares: number;
  count: number;
}

function recordLatency(l: LatencyStats, ms: number): void {
  l.count++;
  l.current = ms;
  l.minimum = l.count === 1 ? ms : Math.min(l.minimum, ms);
  l.maximum = Math.max(l.maximum, ms);
  l.sumOfSquares += ms * ms;
  l.average += (ms - l.average) / l.count;
  const variance = l.sumOfSquares / l.count - l.average * l.average;
  l.standardDeviation = Math.sqrt(Math.max(0, variance));
}

const MIN_BACKOFF_MS = 50;
const MAX_BACKOFF_MS = 1_000;

/**
 * The outgoing half of the peer transport. Each peer has a queue and at most
 * one request in flight: while a request is on the wire, new messages pile up
 * and leave together in the next one, so many raft messages share each write
 * under load and an idle link costs one request per ready batch. `send` never
 * waits, so a slow or dead peer cannot stall the ready loop; raft tolerates
 * the loss of what a full queue drops (it retransmits from its progress).
 */
export class PeerSender {
  readonly #options: PeerSenderOptions;
  readonly #fetch: typeof fetch;
  readonly #peers = new Map<bigint, PeerState>();
  readonly #maxQueued: number;
  readonly #maxBatchBytes: number;
  readonly #timeoutMs: number;
  #closed = false;

  constructor(options: PeerSenderOptions) {
    this.#options = options;
    this.#fetch = options.fetch ?? fetch;
    this.#maxQueued = options.maxQueuedMessages ?? 4096;
    this.#maxBatchBytes = options.maxBatchBytes ?? 8 * 1024 * 1024;
    this.#timeoutMs = options.requestTimeoutMs ?? 5_000;
  }

  /** Adds or replaces the peer URLs of `id`. */
  setPeer(id: bigint, urls: readonly string[]): void {
    const existing = this.#peers.get(id);
    if (existing !== undefined) {
      existing.urls = [...urls];
      existing.urlIndex = 0;
      return;
    }
    this.#peers.set(id, {
      urls: [...urls],
      urlIndex: 0,
      queue: [],
      queuedBytes: 0,
      inflight: false,
      backoffMs: 0,
      timer: undefined,
      reachable: true,
      dropped: 0,
      sentMessages: 0,
      sentBytes: 0,
      latency: {
        current: 0,
        average: 0,
        standardDeviation: 0,
        minimum: 0,
        maximum: 0,
        sumOfSquares: 0,
        count: 0,
      },
      failures: 0,
      successes: 0,
      activeSince: undefined,
    });
  }

  /** Forgets `id` and whatever was queued for it. */
  removePeer(id: bigint): void {
    const peer = this.#peers.get(id);
    if (peer?.timer !== undefined) clearTimeout(peer.timer);
    this.#peers.delete(id);
  }

  /** Known peer ids. */
  peers(): bigint[] {
    return [...this.#peers.keys()];
  }

  /** True while the last exchange with `id` succeeded. */
  isReachable(id: bigint): boolean {
    return this.#peers.get(id)?.reachable ?? false;
  }

  /**
   * Since when the link to `id` has been healthy without a break (ms since
   * the epoch), or undefined while it is down or was never up. etcd's strict
   * reconfiguration check asks for 5 s of this (spec bootstrap §5.3).
   */
  activeSince(id: bigint): number | undefined {
    return this.#peers.get(id)?.activeSince;
  }

  /**
   * Sends an empty request to every idle peer, so a member learns which
   * peers are up even when raft has nothing to send them (followers do not
   * talk to each other).
   */
  probe(): void {
    for (const [id, peer] of this.#peers) {
      if (!peer.inflight && peer.timer === undefined && peer.queue.length === 0) {
        void this.#flush(id, peer, true);
      }
    }
  }

  /** Counters for the stats endpoints. */
  counters(id: bigint):
    | {
        sentMessages: number;
        sentBytes: number;
        dropped: number;
        successes: number;
        failures: number;
        latency: Readonly<LatencyStats>;
      }
    | undefined {
    const p = this.#peers.get(id);
    return (
      p && {
        sentMessages: p.sentMessages,
        sentBytes: p.sentBytes,
        dropped: p.dropped,
        successes: p.successes,
        failures: p.failures,
        latency: { ...p.latency },
      }
    );
  }

  /** Queues one encoded raft message for `to`; returns at once. */
  send(to: bigint, message: Uint8Array): void {
    const peer = this.#peers.get(to);
    if (peer === undefined || this.#closed) return;
    peer.queue.push(message);
    peer.queuedBytes += message.byteLength;
    while (peer.queue.length > this.#maxQueued) {
      const old = peer.queue.shift();
      peer.queuedBytes -= old?.byteLength ?? 0;
      peer.dropped++;
    }
    if (!peer.inflight && peer.timer === undefined) void this.#flush(to, peer);
  }

  /** Stops sending; queued messages are dropped. */
  close(): void {
    this.#closed = true;
    for (const peer of this.#peers.values()) {
      if (peer.timer !== undefined) clearTimeout(peer.timer);
      peer.queue = [];
      peer.queuedBytes = 0;
    }
  }

  /**
   * Streams a snapshot to `to`: the encoded snapshot message as the first
   * frame, then the state image as raw bytes. Resolves true when the peer
   * stored it, false on any failure (raft then retries from its progress).
   */
  async sendSnapshot(
    to: bigint,
    message: Uint8Array,
    data: ReadableStream<Uint8Array>,
  ): Promise<boolean> {
    const peer = this.#peers.get(to);
    if (peer === undefined || this.#closed) {
      await data.cancel();
      return false;
    }
    const header = encodeFrames([message]);
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(header);
        const reader = data.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          controller.enqueue(value);
        }
        controller.close();
      },
    });
    const url = `${peer.urls[peer.urlIndex % peer.urls.length]}${PEER_PATHS.snapshot}`;
    try {
      const res = await this.#fetch(url, {
        method: "POST",
        headers: this.#headers(to),
        body,
        // Required by the fetch standard for a streamed request body.
        duplex: "half",
      } as RequestInit);
      await res.arrayBuffer();
      if (!res.ok) {
        this.#options.logger.warn("snapshot rejected by peer", {
          "remote-peer-id": hexId(to),
          status: res.status,
        });
        return false;
      }
      return true;
    } catch (error) {
      this.#options.logger.warn("failed to send snapshot", {
        "remote-peer-id": hexId(to),
        error: String(error),
      });
      return false;
    }
  }

  #headers(to: bigint): Record<string, string> {
    return {
      "content-type": "application/octet-stream",
      [PEER_HEADERS.clusterId]: hexId(this.#options.clusterId),
      [PEER_HEADERS.from]: hexId(this.#options.localId),
      [PEER_HEADERS.to]: hexId(to),
    };
  }

  async #flush(to: bigint, peer: PeerState, probe = false): Promise<void> {
    if (peer.inflight || this.#closed || (peer.queue.length === 0 && !probe)) return;
    peer.inflight = true;
    const batch: Uint8Array[] = [];
    let bytes = 0;
    while (peer.queue.length > 0) {
      const next = peer.queue[0]!;
      if (batch.length > 0 && bytes + next.byteLength > this.#maxBatchBytes) break;
      batch.push(next);
      bytes += next.byteLength;
      peer.queue.shift();
    }
    peer.queuedBytes -= bytes;
    const url = `${peer.urls[peer.urlIndex % peer.urls.length]}${PEER_PATHS.messages}`;
    let ok = false;
    const started = performance.now();
    try {
      const res = await this.#fetch(url, {
        method: "POST",
        headers: this.#headers(to),
        body: encodeFrames(batch),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      const text = await res.text();
      if (res.status === 410) {
        this.#options.logger.error("this member was removed from the cluster", {
          "remote-peer-id": hexId(to),
        });
        this.#options.onRemoved(to);
      } else if (!res.ok) {
        this.#options.logger.warn("peer rejected messages", {
          "remote-peer-id": hexId(to),
          status: res.status,
          reason: text.trim(),
        });
      } else {
        ok = true;
        recordLatency(peer.latency, performance.now() - started);
        peer.successes++;
        peer.sentMessages += batch.length;
        peer.sentBytes += bytes;
      }
    } catch (error) {
      if (peer.reachable) {
        this.#options.logger.warn("peer unreachable", {
          "remote-peer-id": hexId(to),
          url,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
    peer.inflight = false;
    if (ok) {
      if (!peer.reachable) {
        this.#options.logger.info("peer became active", { "remote-peer-id": hexId(to) });
      }
      peer.reachable = true;
      peer.activeSince ??= Date.now();
      peer.backoffMs = 0;
      if (peer.queue.length > 0) void this.#flush(to, peer);
      return;
    }
    // A failed batch is lost: raft learns of it and re-sends from its progress.
    peer.failures++;
    peer.reachable = false;
    peer.activeSince = undefined;
    peer.urlIndex++;
    this.#options.onUnreachable(to);
    peer.backoffMs = Math.min(MAX_BACKOFF_MS, Math.max(MIN_BACKOFF_MS, peer.backoffMs * 2));
    if (this.#closed || !this.#peers.has(to)) return;
    peer.timer = setTimeout(() => {
      peer.timer = undefined;
      void this.#flush(to, peer);
    }, peer.backoffMs);
  }
}
