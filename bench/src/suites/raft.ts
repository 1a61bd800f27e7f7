/**
 * `pnpm bench raft`: how many proposals per second the Raft core commits, alone. A
 * 3-member cluster runs in this process on one core: MemoryLogStorage for the logs and
 * a zero-latency network that hands each message straight to its recipient's `step`.
 * Each round proposes a batch (1 or 64 proposals of 256 bytes) on the leader, then
 * every member performs its Ready (persist, send, apply, advance) and the messages are
 * delivered; rounds pipeline, as a busy member's would. The figure counts entries the
 * leader applied per second of wall-clock time, and per second of this process's CPU time
 * (what one core does, even on a busy machine). A variant passes every message through
 * the binary codec, which the peer transport will do.
 *
 * Options: `--seconds N` per figure (default 3), `--batch 1|64` to run only those.
 */
import {
  decodeMessage,
  EntryType,
  encodeMessage,
  MemoryLogStorage,
  type Message,
  RaftNode,
  StateRole,
  seededRandom,
} from "@cairn/raft";
import type { Suite } from "../suite.js";

interface Member {
  raft: RaftNode;
  storage: MemoryLogStorage;
  applied: number;
}

function makeCluster(): Member[] {
  const peers = [1n, 2n, 3n];
  return peers.map((id) => {
    const storage = new MemoryLogStorage();
    const raft = new RaftNode({
      id,
      storage,
      peers,
      electionTick: 10,
      heartbeatTick: 1,
      random: seededRandom(Number(id)),
      maxSizePerMsg: 1024 * 1024,
      maxInflightMsgs: 256,
    });
    return { raft, storage, applied: 0 };
  });
}

/** Performs every member's Ready and delivers the messages; returns whether anything moved. */
function pump(members: Member[], codec: boolean): boolean {
  const outbox: Message[] = [];
  let moved = false;
  for (const m of members) {
    if (!m.raft.hasReady()) continue;
    moved = true;
    const rd = m.raft.ready();
    if (rd.snapshot !== undefined) m.storage.applySnapshot(rd.snapshot);
    if (rd.entries.length > 0) m.storage.append(rd.entries);
    if (rd.hardState !== undefined) m.storage.setHardState(rd.hardState);
    for (const msg of rd.messages) outbox.push(msg);
    for (const e of rd.committedEntries) {
      if (e.type === EntryType.Normal && e.data.byteLength > 0) m.applied++;
    }
    m.raft.advance(rd);
  }
  for (const msg of outbox) {
    const to = members[Number(msg.to) - 1]!;
    to.raft.step(codec ? decodeMessage(encodeMessage(msg)) : msg);
  }
  return moved || outbox.length > 0;
}

/** Entries committed per second of wall-clock time and per second of this process's CPU time. */
function measure(batch: number, seconds: number, codec: boolean): { wall: number; cpu: number } {
  const members = makeCluster();
  const leader = members[0]!;
  // Persist the bootstrap, elect member 1, and let the cluster settle.
  // (A member does not campaign before it applied the committed bootstrap conf changes.)
  for (let i = 0; i < 10 && pump(members, codec); i++) {}
  leader.raft.campaign();
  for (let i = 0; i < 100 && pump(members, codec); i++) {}
  if (leader.raft.state !== StateRole.Leader) throw new Error("bench: member 1 was not elected");
  const payload = new Uint8Array(256).fill(7);
  const proposals: Uint8Array[] = Array.from({ length: batch }, () => payload);
  // Compaction keeps the in-memory logs from growing without bound.
  const compactEvery = 50_000;
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  const deadline = start + seconds * 1000;
  let rounds = 0;
  let lastCompact = 0;
  const base = leader.applied;
  while (true) {
    if (batch === 1) leader.raft.propose(payload);
    else for (const p of proposals) leader.raft.propose(p);
    pump(members, codec);
    rounds++;
    if ((rounds & 63) === 0) {
      // Ticks keep heartbeats and CheckQuorum going, as a member's clock would.
      for (const m of members) m.raft.tick();
      if (performance.now() >= deadline) break;
      if (leader.applied - lastCompact > compactEvery) {
        for (const m of members) {
          const idx = m.raft.status().applied - 1000;
          if (idx > m.storage.firstIndex()) m.storage.compact(idx);
        }
        lastCompact = leader.applied;
      }
    }
  }
  // Drain what is in flight so every counted entry is really committed and applied.
  for (let i = 0; i < 100 && pump(members, codec); i++) {}
  const elapsed = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const n = leader.applied - base;
  return { wall: n / elapsed, cpu: n / cpuSeconds };
}

const suite: Suite = {
  name: "raft",
  description:
    "proposals committed per second by a 3-member in-process Raft cluster (memory logs, zero-latency network), batches of 1 and 64",
  async run(ctx) {
    const i = ctx.args.indexOf("--seconds");
    const seconds = i >= 0 ? Number(ctx.args[i + 1]) : 3;
    if (!Number.isFinite(seconds) || seconds <= 0)
      throw new Error("bench raft: --seconds must be > 0");
    // A short warm-up lets the JIT settle before the measured runs.
    measure(64, Math.min(1, seconds), false);
    const only = ctx.args.indexOf("--batch");
    const cases = (
      [
        [1, false],
        [64, false],
        [64, true],
      ] as const
    ).filter(([batch]) => only < 0 || batch === Number(ctx.args[only + 1]));
    for (const [batch, codec] of cases) {
      ctx.log(`bench: raft, batch ${batch}${codec ? ", through the codec" : ""}, ${seconds}s`);
      const rate = measure(batch, seconds, codec);
      const name = `raft-commit-batch-${batch}${codec ? "-codec" : ""}`;
      const context = { batch, members: 3, payloadBytes: 256, codec };
      ctx.report({ name, value: Math.round(rate.wall), unit: "entries/s", ...context });
      // Per CPU-second of this process: what one core does, whatever else the machine runs.
      ctx.report({
        name: `${name}-per-cpu`,
        value: Math.round(rate.cpu),
        unit: "entries/cpu-s",
        ...context,
      });
    }
  },
};

export default suite;
