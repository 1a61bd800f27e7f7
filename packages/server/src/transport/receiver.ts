import { Hono } from "hono";
import { decodeFrames, FrameError } from "./frames.js";
import { hexId, PEER_HEADERS, PEER_PATHS, parseHexId } from "./protocol.js";

/** What the peer API needs from the member it serves. */
export interface PeerHandler {
  readonly clusterId: () => bigint;
  readonly localId: bigint;
  /** True when `id` was removed from the cluster: its traffic is refused. */
  isRemoved(id: bigint): boolean;
  /**
   * Hands decoded frames (encoded raft messages) to the member, to keep:
   * they are views of the request's own body, which nothing else uses.
   */
  deliver(from: bigint, messages: Uint8Array[]): void;
  /**
   * The stream of this member's messages to `from`, which `from` reads as a
   * response body; undefined when `from` is not a known peer.
   */
  openStream(from: bigint): ReadableStream<Uint8Array> | undefined;
  /**
   * Receives a streamed snapshot: `message` is the encoded snapshot message,
   * `data` the state image. Resolves once it is durably stored.
   */
  receiveSnapshot(
    from: bigint,
    message: Uint8Array,
    data: ReadableStream<Uint8Array>,
  ): Promise<void>;
  /** The members list as etcd's peer `/members` endpoint renders it. */
  membersJson(): string;
  /** `{"etcdserver":…,"etcdcluster":…}` */
  versionJson(): string;
}

function refuse(status: 404 | 410 | 412 | 400, text: string): Response {
  return new Response(`${text}\n`, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8" },
  });
}

/**
 * Reads the first length-prefixed frame from a stream and returns it with a
 * stream of whatever follows, without buffering the rest.
 */
async function splitFirstFrame(
  body: ReadableStream<Uint8Array>,
): Promise<{ first: Uint8Array; rest: ReadableStream<Uint8Array> }> {
  const reader = body.getReader();
  let buffered = new Uint8Array(0);
  const need = async (n: number) => {
    while (buffered.byteLength < n) {
      const { done, value } = await reader.read();
      if (done) throw new FrameError("snapshot body ended before its header");
      const joined = new Uint8Array(buffered.byteLength + value.byteLength);
      joined.set(buffered);
      joined.set(value, buffered.byteLength);
      buffered = joined;
    }
  };
  await need(4);
  const length = new DataView(buffered.buffer, buffered.byteOffset, 4).getUint32(0);
  await need(4 + length);
  const first = buffered.slice(4, 4 + length);
  let leftover: Uint8Array | undefined = buffered.subarray(4 + length);
  const rest = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (leftover !== undefined) {
        const chunk = leftover;
        leftover = undefined;
        if (chunk.byteLength > 0) {
          controller.enqueue(chunk);
          return;
        }
      }
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
  return { first, rest };
}

/**
 * The peer API served on `--listen-peer-urls`: raft messages and snapshots in,
 * plus the membership and version views that joining members ask for.
 */
export function createPeerApi(handler: PeerHandler): Hono {
  const app = new Hono();

  const check = (headers: Headers): bigint | Response => {
    const cluster = parseHexId(headers.get(PEER_HEADERS.clusterId));
    const from = parseHexId(headers.get(PEER_HEADERS.from));
    const to = parseHexId(headers.get(PEER_HEADERS.to));
    if (from === undefined || cluster === undefined) return refuse(400, "missing sender headers");
    if (cluster !== handler.clusterId()) {
      return refuse(
        412,
        `cluster ID mismatch (local ${hexId(handler.clusterId())}, remote ${hexId(cluster)})`,
      );
    }
    if (handler.isRemoved(from)) return refuse(410, "the member has been permanently removed");
    if (to !== undefined && to !== handler.localId) {
      return refuse(412, `message for ${hexId(to)} reached ${hexId(handler.localId)}`);
    }
    return from;
  };

  app.post(PEER_PATHS.messages, async (c) => {
    const from = check(c.req.raw.headers);
    if (from instanceof Response) return from;
    let frames: Uint8Array[];
    try {
      frames = decodeFrames(new Uint8Array(await c.req.arrayBuffer()));
    } catch (error) {
      return refuse(400, error instanceof Error ? error.message : "bad body");
    }
    handler.deliver(from, frames);
    return c.body(null, 204);
  });

  app.get(PEER_PATHS.stream, (c) => {
    // A stream's connection is not reused once the stream ends: it would keep
    // a server that is closing alive with redials on the same connection.
    const from = check(c.req.raw.headers);
    if (from instanceof Response) {
      from.headers.set("connection", "close");
      return from;
    }
    const stream = handler.openStream(from);
    if (stream === undefined) {
      const refused = refuse(404, `unknown member ${hexId(from)}`);
      refused.headers.set("connection", "close");
      return refused;
    }
    return new Response(stream, {
      status: 200,
      headers: {
        "content-type": "application/octet-stream",
        "cache-control": "no-store",
        connection: "close",
      },
    });
  });

  app.post(PEER_PATHS.snapshot, async (c) => {
    const from = check(c.req.raw.headers);
    if (from instanceof Response) return from;
    const body = c.req.raw.body;
    if (body === null) return refuse(400, "empty snapshot body");
    try {
      const { first, rest } = await splitFirstFrame(body);
      await handler.receiveSnapshot(from, first, rest);
    } catch (error) {
      return refuse(400, error instanceof Error ? error.message : "bad snapshot");
    }
    return c.body(null, 204);
  });

  app.get(PEER_PATHS.members, (c) =>
    c.body(handler.membersJson(), 200, {
      "content-type": "application/json",
      "x-etcd-cluster-id": hexId(handler.clusterId()),
    }),
  );

  app.get(PEER_PATHS.version, (c) =>
    c.body(handler.versionJson(), 200, { "content-type": "application/json" }),
  );

  return app;
}
