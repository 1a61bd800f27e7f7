import type { Logger } from "../logger.js";
import { encodeFrames, FrameReader } from "./frames.js";
import { hexId, PEER_HEADERS, PEER_PATHS } from "./protocol.js";

/**
 * Opens the long-lived GET a peer writes its messages to (`/raft/stream`) and
 * hands each chunk of the response body to `onData` as it arrives. Resolves
 * once the response head is in, with its status and `ended`, which settles
 * when the body ends, fails or `signal` aborts. A body that is not read (any
 * status but 200) is discarded by the dialer.
 *
 * The default reads the stream with `fetch`; a runtime adapter may give a
 * leaner one (Node's fetch passes every chunk through Web streams, a cost
 * paid on every hop of every write).
 */
export type StreamDialer = (
  url: string,
  headers: Record<string, string>,
  signal: AbortSignal,
  onData: (chunk: Uint8Array) => void,
) => Promise<{ status: number; ended: Promise<void> }>;

/** A {@link StreamDialer} over `fetch`: any runtime. */
export function fetchStreamDialer(f: typeof fetch): StreamDialer {
  return async (url, headers, signal, onData) => {
    const res = await f(url, { headers, signal });
    const body = res.body;
    if (res.status !== 200 || body === null) {
      await body?.cancel();
      return { status: res.status, ended: Promise.resolve() };
    }
    const reader = body.getReader();
    const ended = (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        onData(value);
      }
    })();
    return { status: res.status, ended };
  };
}

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
  /** Reads peers' streams; {@link fetchStreamDialer} over `fetch` otherwise. */
  readonly dialStream?: StreamDialer;
  /** Most messages held for one peer while it is slow or down (oldest dropped first). */
  readonly maxQueuedMessages?: number;
  /** Most bytes sent in one request. */
  readonly maxBatchBytes?: number;
  /** Per-request timeout, milliseconds. */
  readonly requestTimeoutMs?: number;
  /**
   * Receives the frames (encoded raft messages) a peer streams to this
   * member. When given, the sender keeps one streaming request open to every
   * peer (see {@link PeerSender.attachStream}) and reads that peer's messages
   * from it. Each frame is a copy of its own, the receiver's to keep.
   */
  readonly onMessages?: (from: bigint, frames: Uint8Array[]) => void;
  /** Most bytes buffered on one outgoing stream before messages are dropped. */
  readonly maxStreamBufferedBytes?: number;
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
  /** The stream the peer reads this member's messages from, while it is open. */
  stream: ReadableStreamDefaultController<Uint8Array> | undefined;
  /** Messages waiting for the end of the current task to leave on `stream` together. */
  streamBatch: Uint8Array[];
  /** The request that reads the peer's stream of messages to this member. */
  dial: AbortController | undefined;
  dialTimer: ReturnType<typeof setTimeout> | undefined;
  dialBackoffMs: number;
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
/** A zero-length frame: keeps an idle stream open and flushes its response headers. */
const KEEPALIVE = new Uint8Array(4);
/** A stream that brings nothing (not even a keep-alive) for this long is dropped and redialled. */
const STREAM_IDLE_MS = 5_000;

function backoff(ms: number): number {
  return Math.min(MAX_BACKOFF_MS, Math.max(MIN_BACKOFF_MS, ms * 2));
}

/**
 * The peer links of a member. Messages to a peer leave on a stream: each
 * member keeps one long-lived GET open to every peer (`/raft/stream`), and the
 * peer writes its messages to that response body as length-prefixed frames,
 * so a message leaves at once, with no request set up per batch (etcd's
 * stream transport works the same way). Messages sent within one task leave
 * in one write. While a peer has no stream open to this member (starting up,
 * reconnecting), messages go by POST instead: a queue per peer with at most
 * one request in flight, new messages piling up to leave together in the next
 * one. `send` never waits, so a slow or dead peer cannot stall the ready
 * loop; raft tolerates the loss of what a full queue or a broken stream drops
 * (it retransmits from its progress). Idle links are probed by an empty POST,
 * which is also what tells reachability and `activeSince`.
 */
export class PeerSender {
  readonly #options: PeerSenderOptions;
  readonly #fetch: typeof fetch;
  readonly #dialStream: StreamDialer;
  readonly #peers = new Map<bigint, PeerState>();
  readonly #maxQueued: number;
  readonly #maxBatchBytes: number;
  readonly #timeoutMs: number;
  readonly #maxStreamBuffered: number;
  #closed = false;

  constructor(options: PeerSenderOptions) {
    this.#options = options;
    this.#fetch = options.fetch ?? fetch;
    this.#dialStream = options.dialStream ?? fetchStreamDialer(this.#fetch);
    this.#maxQueued = options.maxQueuedMessages ?? 4096;
    this.#maxBatchBytes = options.maxBatchBytes ?? 8 * 1024 * 1024;
    this.#timeoutMs = options.requestTimeoutMs ?? 5_000;
    this.#maxStreamBuffered = options.maxStreamBufferedBytes ?? 16 * 1024 * 1024;
  }

  /** Adds or replaces the peer URLs of `id`. */
  setPeer(id: bigint, urls: readonly string[]): void {
    const existing = this.#peers.get(id);
    if (existing !== undefined) {
      const changed = !sameList(existing.urls, urls);
      existing.urls = [...urls];
      existing.urlIndex = 0;
      if (changed) existing.dial?.abort(); // redialled at the new URLs
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
      stream: undefined,
      streamBatch: [],
      dial: undefined,
      dialTimer: undefined,
      dialBackoffMs: 0,
    });
  }

  /** Forgets `id` and whatever was queued for it. */
  removePeer(id: bigint): void {
    const peer = this.#peers.get(id);
    if (peer !== undefined) this.#shutLinks(peer);
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
      if (peer.stream !== undefined) this.#enqueue(id, peer, KEEPALIVE);
      if (this.#options.onMessages !== undefined && peer.dial === undefined) {
        if (peer.dialTimer === undefined) void this.#dial(id, peer);
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
    if (peer.stream !== undefined) {
      peer.streamBatch.push(message);
      if (peer.streamBatch.length === 1) queueMicrotask(() => this.#flushStream(to, peer));
      return;
    }
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
      this.#shutLinks(peer);
      peer.queue = [];
      peer.queuedBytes = 0;
    }
  }

  /**
   * Opens the stream `id` reads this member's messages from (the body of the
   * response to its `/raft/stream` request); from now on messages to `id`
   * leave on it. A stream `id` opened before is closed. Undefined when `id`
   * is not a known peer.
   */
  attachStream(id: bigint): ReadableStream<Uint8Array> | undefined {
    const peer = this.#peers.get(id);
    if (peer === undefined || this.#closed) return undefined;
    this.#detachStream(peer);
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const stream = new ReadableStream<Uint8Array>(
      {
        start: (c) => {
          controller = c;
        },
        cancel: () => {
          // The peer hung up: whatever was still buffered is lost.
          if (peer.stream !== controller) return;
          peer.stream = undefined;
          peer.streamBatch = [];
          if (!this.#closed && this.#peers.get(id) === peer) this.#options.onUnreachable(id);
        },
      },
      new ByteLengthQueuingStrategy({ highWaterMark: 64 * 1024 }),
    );
    peer.stream = controller;
    // Sends the response headers at once, on every runtime.
    controller.enqueue(KEEPALIVE);
    return stream;
  }

  #flushStream(to: bigint, peer: PeerState): void {
    const batch = peer.streamBatch;
    peer.streamBatch = [];
    if (batch.length === 0) return;
    if (peer.stream === undefined) {
      // The stream closed meanwhile: these go by POST.
      for (const m of batch) this.send(to, m);
      return;
    }
    const body = encodeFrames(batch);
    if (this.#enqueue(to, peer, body)) {
      peer.successes++;
      peer.sentMessages += batch.length;
      peer.sentBytes += body.byteLength - 4 * batch.length;
    } else {
      peer.dropped += batch.length;
    }
  }

  /** Writes `bytes` to the stream of `peer`; false when they were dropped. */
  #enqueue(to: bigint, peer: PeerState, bytes: Uint8Array): boolean {
    const controller = peer.stream;
    if (controller === undefined) return false;
    // A peer that does not read is slow or gone: drop rather than buffer without end.
    if ((controller.desiredSize ?? 0) < -this.#maxStreamBuffered) {
      this.#detachStream(peer);
      this.#options.onUnreachable(to);
      return false;
    }
    try {
      controller.enqueue(bytes);
      return true;
    } catch {
      peer.stream = undefined;
      this.#options.onUnreachable(to);
      return false;
    }
  }

  #detachStream(peer: PeerState): void {
    const controller = peer.stream;
    peer.stream = undefined;
    try {
      controller?.close();
    } catch {
      // already closed or errored
    }
  }

  #shutLinks(peer: PeerState): void {
    if (peer.timer !== undefined) clearTimeout(peer.timer);
    if (peer.dialTimer !== undefined) clearTimeout(peer.dialTimer);
    peer.dialTimer = undefined;
    peer.dial?.abort();
    this.#detachStream(peer);
    peer.streamBatch = [];
  }

  /**
   * Reads `id`'s stream of messages to this member: one GET held open to
   * its `/raft/stream`, redialled with backoff whenever it ends.
   */
  async #dial(id: bigint, peer: PeerState): Promise<void> {
    const onMessages = this.#options.onMessages;
    if (onMessages === undefined || this.#closed || this.#peers.get(id) !== peer) return;
    const abort = new AbortController();
    peer.dial = abort;
    const url = `${peer.urls[peer.urlIndex % peer.urls.length]}${PEER_PATHS.stream}`;
    let received = false;
    let lastData = Date.now();
    const watchdog = setInterval(() => {
      if (Date.now() - lastData > STREAM_IDLE_MS) abort.abort();
    }, STREAM_IDLE_MS / 2);
    const frames = new FrameReader();
    const onData = (chunk: Uint8Array) => {
      lastData = Date.now();
      received = true;
      const messages = frames.push(chunk);
      if (messages.length > 0 && !this.#closed) onMessages(id, messages);
    };
    try {
      const { status, ended } = await this.#dialStream(
        url,
        this.#headers(id),
        abort.signal,
        onData,
      );
      if (status === 410) {
        this.#options.logger.error("this member was removed from the cluster", {
          "remote-peer-id": hexId(id),
        });
        this.#options.onRemoved(id);
        return;
      }
      await ended;
    } catch {
      // Unreachable, aborted, or a damaged stream: redialled below. The POST
      // path reports the peer as unreachable, so nothing is logged here.
    } finally {
      clearInterval(watchdog);
      if (peer.dial === abort) peer.dial = undefined;
    }
    if (this.#closed || this.#peers.get(id) !== peer || peer.dial !== undefined) return;
    peer.dialBackoffMs = received ? 0 : backoff(peer.dialBackoffMs);
    peer.dialTimer = setTimeout(() => {
      peer.dialTimer = undefined;
      void this.#dial(id, peer);
    }, peer.dialBackoffMs || MIN_BACKOFF_MS);
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
    peer.backoffMs = backoff(peer.backoffMs);
    if (this.#closed || !this.#peers.has(to)) return;
    peer.timer = setTimeout(() => {
      peer.timer = undefined;
      void this.#flush(to, peer);
    }, peer.backoffMs);
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
