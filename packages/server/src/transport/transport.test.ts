import { freePort, waitFor } from "@cairn/testkit";
import { type ServerType, serve } from "@hono/node-server";
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../logger.js";
import { decodeFrames, encodeFrames, FrameError, FrameReader } from "./frames.js";
import { createPeerApi, type PeerHandler } from "./receiver.js";
import { PeerSender } from "./sender.js";

const CLUSTER = 0x29c54d16dff3d682n;
const A = 0xa1n;
const B = 0xfb5c1e8f2b3e4d11n; // above 2^63: ids are unsigned 64-bit

interface Received {
  from: bigint;
  messages: string[];
}

const servers: ServerType[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function peer(overrides: Partial<PeerHandler> = {}) {
  const received: Received[] = [];
  const snapshots: { from: bigint; message: string; bytes: number; sum: number }[] = [];
  const handler: PeerHandler = {
    clusterId: () => CLUSTER,
    localId: B,
    isRemoved: () => false,
    deliver(from, messages) {
      received.push({ from, messages: messages.map((m) => new TextDecoder().decode(m)) });
    },
    async receiveSnapshot(from, message, data) {
      let bytes = 0;
      let sum = 0;
      for await (const chunk of data as unknown as AsyncIterable<Uint8Array>) {
        bytes += chunk.byteLength;
        for (const b of chunk) sum = (sum + b) % 65_521;
      }
      snapshots.push({ from, message: new TextDecoder().decode(message), bytes, sum });
    },
    openStream: () => undefined,
    membersJson: () => "[]",
    versionJson: () => '{"etcdserver":"3.4.23","etcdcluster":"3.4.0"}',
    ...overrides,
  };
  const port = await freePort();
  const app = createPeerApi(handler);
  servers.push(serve({ fetch: app.fetch, hostname: "127.0.0.1", port }));
  return { url: `http://127.0.0.1:${port}`, received, snapshots };
}

function sender(extra: Partial<ConstructorParameters<typeof PeerSender>[0]> = {}) {
  const unreachable: bigint[] = [];
  const removedBy: bigint[] = [];
  const s = new PeerSender({
    clusterId: CLUSTER,
    localId: A,
    logger: silentLogger,
    onUnreachable: (id) => unreachable.push(id),
    onRemoved: (id) => removedBy.push(id),
    ...extra,
  });
  return { s, unreachable, removedBy };
}

const text = (s: string) => new TextEncoder().encode(s);

describe("frames", () => {
  it("round-trips many messages, including empty ones", () => {
    const frames = [text("one"), new Uint8Array(0), text("three")];
    const decoded = decodeFrames(encodeFrames(frames)).map((f) => new TextDecoder().decode(f));
    expect(decoded).toEqual(["one", "", "three"]);
  });

  it("splits a stream cut anywhere, skipping keep-alives", () => {
    const words = ["alpha", "", "b", "gamma-delta", ""];
    const bytes = encodeFrames(words.map(text));
    for (const cut of [1, 3, 4, 5, 7, bytes.byteLength]) {
      const reader = new FrameReader();
      const out: string[] = [];
      for (let at = 0; at < bytes.byteLength; at += cut) {
        for (const f of reader.push(bytes.subarray(at, at + cut))) {
          out.push(new TextDecoder().decode(f));
        }
      }
      expect(out).toEqual(["alpha", "b", "gamma-delta"]);
    }
    const huge = new Uint8Array(4);
    new DataView(huge.buffer).setUint32(0, 0xffffffff);
    expect(() => new FrameReader().push(huge)).toThrow(FrameError);
  });

  it("hands out frames of their own, even from a Node Buffer over a reused read buffer", () => {
    const read = Buffer.from(encodeFrames([text("kept"), text("also")]));
    const frames = new FrameReader().push(read);
    read.fill(0); // the socket's next read lands in the same memory
    expect(frames.map((f) => new TextDecoder().decode(f))).toEqual(["kept", "also"]);
  });

  it("refuses truncated bodies", () => {
    const body = encodeFrames([text("hello")]);
    expect(() => decodeFrames(body.subarray(0, body.byteLength - 1))).toThrow(FrameError);
    expect(() => decodeFrames(body.subarray(0, 2))).toThrow(FrameError);
  });
});

describe("peer transport", () => {
  it("delivers messages in order, batching what queues up behind a request", async () => {
    const b = await peer();
    const { s } = sender();
    s.setPeer(B, [b.url]);
    for (let i = 0; i < 500; i++) s.send(B, text(`m${i}`));
    await waitFor(() => b.received.flatMap((r) => r.messages).length === 500, {
      what: "500 messages delivered",
    });
    const all = b.received.flatMap((r) => r.messages);
    expect(all).toEqual(Array.from({ length: 500 }, (_, i) => `m${i}`));
    expect(b.received.every((r) => r.from === A)).toBe(true);
    // Far fewer requests than messages: they share writes.
    expect(b.received.length).toBeLessThan(50);
    s.close();
  });

  it("refuses a member of another cluster", async () => {
    const b = await peer({ clusterId: () => 0x1234n });
    const { s, unreachable } = sender();
    s.setPeer(B, [b.url]);
    s.send(B, text("hello"));
    await waitFor(() => unreachable.length > 0, { what: "rejection reported" });
    expect(b.received).toEqual([]);
    s.close();
  });

  it("tells a removed member that it was removed", async () => {
    const b = await peer({ isRemoved: (id) => id === A });
    const { s, removedBy } = sender();
    s.setPeer(B, [b.url]);
    s.send(B, text("hello"));
    await waitFor(() => removedBy.length > 0, { what: "removal reported" });
    expect(removedBy[0]).toBe(B);
    expect(b.received).toEqual([]);
    s.close();
  });

  it("reports an unreachable peer, backs off, and delivers once it is up", async () => {
    const port = await freePort();
    const { s, unreachable } = sender();
    s.setPeer(B, [`http://127.0.0.1:${port}`]);
    s.send(B, text("early"));
    await waitFor(() => unreachable.length > 0, { what: "unreachable reported" });
    expect(s.isReachable(B)).toBe(false);
    // The peer comes up on the same port; later messages get through.
    const received: string[] = [];
    const app = createPeerApi({
      clusterId: () => CLUSTER,
      localId: B,
      isRemoved: () => false,
      deliver: (_from, m) => received.push(...m.map((x) => new TextDecoder().decode(x))),
      receiveSnapshot: async () => {},
      openStream: () => undefined,
      membersJson: () => "[]",
      versionJson: () => "{}",
    });
    servers.push(serve({ fetch: app.fetch, hostname: "127.0.0.1", port }));
    await waitFor(
      () => {
        s.send(B, text("later"));
        return received.includes("later");
      },
      { what: "delivery after recovery", intervalMs: 100 },
    );
    expect(s.isReachable(B)).toBe(true);
    s.close();
  });

  it("streams a large snapshot without losing a byte", async () => {
    const b = await peer();
    const { s } = sender();
    s.setPeer(B, [b.url]);
    const chunk = new Uint8Array(64 * 1024).map((_, i) => i % 251);
    const chunks = 160; // 10 MiB
    let expectedSum = 0;
    for (let i = 0; i < chunks; i++)
      for (const x of chunk) expectedSum = (expectedSum + x) % 65_521;
    let sent = 0;
    const data = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < chunks) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const ok = await s.sendSnapshot(B, text("snap-meta"), data);
    expect(ok).toBe(true);
    expect(b.snapshots).toEqual([
      { from: A, message: "snap-meta", bytes: chunks * chunk.byteLength, sum: expectedSum },
    ]);
    s.close();
  });

  /** A member's transport end to end: its peer API served, and its sender dialling streams. */
  async function member(id: bigint, handler: Partial<PeerHandler> = {}) {
    const streamed: string[] = [];
    const posted: string[] = [];
    const unreachable: bigint[] = [];
    const removedBy: bigint[] = [];
    const s = new PeerSender({
      clusterId: CLUSTER,
      localId: id,
      logger: silentLogger,
      onUnreachable: (p) => unreachable.push(p),
      onRemoved: (p) => removedBy.push(p),
      onMessages: (_from, m) => streamed.push(...m.map((x) => new TextDecoder().decode(x))),
    });
    const port = await freePort();
    const app = createPeerApi({
      clusterId: () => CLUSTER,
      localId: id,
      isRemoved: () => false,
      deliver: (_from, m) => posted.push(...m.map((x) => new TextDecoder().decode(x))),
      receiveSnapshot: async () => {},
      openStream: (from) => s.attachStream(from),
      membersJson: () => "[]",
      versionJson: () => "{}",
      ...handler,
    });
    servers.push(serve({ fetch: app.fetch, hostname: "127.0.0.1", port }));
    return { s, url: `http://127.0.0.1:${port}`, streamed, posted, unreachable, removedBy };
  }

  it("streams messages on the connection the peer holds open, in order", async () => {
    const a = await member(A);
    const b = await member(B);
    a.s.setPeer(B, [b.url]);
    b.s.setPeer(A, [a.url]);
    a.s.probe(); // A dials B's stream
    await waitFor(
      () => {
        b.s.send(A, text("hello"));
        return a.streamed.includes("hello");
      },
      { what: "a message on the stream", intervalMs: 50 },
    );
    const postedBefore = a.posted.length;
    for (let i = 0; i < 1000; i++) b.s.send(A, text(`m${i}`));
    await waitFor(() => a.streamed.includes("m999"), { what: "1000 streamed messages" });
    expect(a.streamed.filter((m) => m.startsWith("m"))).toEqual(
      Array.from({ length: 1000 }, (_, i) => `m${i}`),
    );
    expect(a.posted.length).toBe(postedBefore);
    expect(b.s.counters(A)?.sentMessages).toBeGreaterThanOrEqual(1000);
    a.s.close();
    b.s.close();
  });

  it("falls back to requests when the reading side goes away", async () => {
    const a = await member(A);
    const b = await member(B);
    a.s.setPeer(B, [b.url]);
    b.s.setPeer(A, [a.url]);
    a.s.probe();
    await waitFor(
      () => {
        b.s.send(A, text("hello"));
        return a.streamed.includes("hello");
      },
      { what: "a message on the stream", intervalMs: 50 },
    );
    a.s.close(); // hangs up its stream from B; its peer API still answers
    await waitFor(() => b.unreachable.includes(A), { what: "the broken stream reported" });
    await waitFor(
      () => {
        b.s.send(A, text("by-post"));
        return a.posted.includes("by-post");
      },
      { what: "delivery by POST", intervalMs: 50 },
    );
    b.s.close();
  });

  it("refuses a stream to a member of another cluster or a removed member", async () => {
    const other = await member(B, { clusterId: () => 0x1234n });
    const a = await member(A);
    a.s.setPeer(B, [other.url]);
    other.s.setPeer(A, [a.url]);
    a.s.probe();
    const gone = await member(B, { isRemoved: (id) => id === A });
    const c = await member(A);
    c.s.setPeer(B, [gone.url]);
    gone.s.setPeer(A, [c.url]);
    c.s.probe();
    await waitFor(() => c.removedBy.includes(B), { what: "removal reported by the stream" });
    other.s.send(A, text("stranger"));
    await new Promise((r) => setTimeout(r, 200));
    expect(a.streamed).toEqual([]);
    for (const x of [a, other, gone, c]) x.s.close();
  });
});
