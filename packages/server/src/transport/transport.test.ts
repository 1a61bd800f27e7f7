import { freePort, waitFor } from "@cairn/testkit";
import { type ServerType, serve } from "@hono/node-server";
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../logger.js";
import { decodeFrames, encodeFrames, FrameError } from "./frames.js";
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
});
