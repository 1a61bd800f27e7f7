/**
 * A compact binary encoding of messages, entries, membership changes and configurations,
 * for the peer transport and for storage. Numbers (terms, indexes) are unsigned LEB128
 * varints (exact up to 2^53); node ids are fixed 8-byte little-endian unsigned integers;
 * byte strings are a varint length then the bytes. The decoder copies its input once and
 * hands out views into that copy, so the caller may reuse its buffer; an encoded result
 * may be a view into a larger buffer.
 *
 * A message starts with a format byte ({@link MESSAGE_FORMAT}) so the format can evolve.
 */
import { DecodeError } from "./errors.js";
import {
  type ConfChange,
  ConfChangeType,
  type ConfState,
  type Entry,
  EntryType,
  type Message,
  MessageType,
  type NodeId,
  type Snapshot,
} from "./types.js";

/** The format byte that starts every encoded message. */
export const MESSAGE_FORMAT = 1;

const MAX_U64 = (1n << 64n) - 1n;

class Writer {
  buf: Uint8Array;
  view: DataView;
  pos = 0;

  constructor(size: number) {
    this.buf = new Uint8Array(size);
    this.view = new DataView(this.buf.buffer);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  varint(v: number): void {
    if (!Number.isSafeInteger(v) || v < 0) {
      throw new RangeError(`cannot encode ${v}: not a non-negative safe integer`);
    }
    this.ensure(8);
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.pos++] = v;
  }

  id(v: NodeId): void {
    if (v < 0n || v > MAX_U64)
      throw new RangeError(`node id ${v} is not a 64-bit unsigned integer`);
    this.ensure(8);
    this.view.setBigUint64(this.pos, v, true);
    this.pos += 8;
  }

  bytes(b: Uint8Array): void {
    this.varint(b.byteLength);
    this.ensure(b.byteLength);
    this.buf.set(b, this.pos);
    this.pos += b.byteLength;
  }

  finish(): Uint8Array {
    // A view, not a copy: sizes are estimated up front, so little is wasted.
    return this.buf.subarray(0, this.pos);
  }
}

class Reader {
  readonly buf: Uint8Array;
  readonly view: DataView;
  pos = 0;

  /**
   * Copies `input` once unless `owned` (the caller hands it over and will
   * neither change nor reuse it); decoded byte strings are views into it.
   */
  constructor(input: Uint8Array, owned = false) {
    const buf = owned ? input : input.slice();
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  u8(): number {
    if (this.pos >= this.buf.length) throw new DecodeError("unexpected end of input");
    return this.buf[this.pos++]!;
  }

  varint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.u8();
      result += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) {
        if (!Number.isSafeInteger(result)) throw new DecodeError("varint exceeds 2^53");
        return result;
      }
      mul *= 0x80;
    }
    throw new DecodeError("varint is too long");
  }

  id(): NodeId {
    if (this.pos + 8 > this.buf.length) throw new DecodeError("unexpected end of input");
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return v;
  }

  bytes(): Uint8Array {
    const n = this.varint();
    if (this.pos + n > this.buf.length) throw new DecodeError("byte string runs past the end");
    // One allocation per message rather than per entry: entries share the copy.
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  count(minBytesEach: number): number {
    const n = this.varint();
    // Refuse counts the remaining input cannot hold, before allocating anything.
    if (n * minBytesEach > this.buf.length - this.pos) throw new DecodeError("count is too large");
    return n;
  }

  end(): void {
    if (this.pos !== this.buf.length) {
      throw new DecodeError(`${this.buf.length - this.pos} trailing bytes`);
    }
  }
}

const MESSAGE_TYPES = new Set<number>(Object.values(MessageType));
const CONF_CHANGE_TYPES = new Set<number>(Object.values(ConfChangeType));

function writeEntry(w: Writer, e: Entry): void {
  w.varint(e.index);
  w.varint(e.term);
  w.u8(e.type);
  w.bytes(e.data);
}

function readEntry(r: Reader): Entry {
  const index = r.varint();
  const term = r.varint();
  const type = r.u8();
  if (type !== EntryType.Normal && type !== EntryType.ConfChange) {
    throw new DecodeError(`unknown entry type ${type}`);
  }
  return { index, term, type, data: r.bytes() };
}

function writeConfState(w: Writer, cs: ConfState): void {
  w.varint(cs.voters.length);
  for (const id of cs.voters) w.id(id);
  w.varint(cs.learners.length);
  for (const id of cs.learners) w.id(id);
}

function readConfState(r: Reader): ConfState {
  const voters: NodeId[] = [];
  for (let n = r.count(8); n > 0; n--) voters.push(r.id());
  const learners: NodeId[] = [];
  for (let n = r.count(8); n > 0; n--) learners.push(r.id());
  return { voters, learners };
}

function writeSnapshot(w: Writer, s: Snapshot): void {
  w.varint(s.metadata.index);
  w.varint(s.metadata.term);
  writeConfState(w, s.metadata.confState);
  w.bytes(s.data);
}

function readSnapshot(r: Reader): Snapshot {
  const index = r.varint();
  const term = r.varint();
  const confState = readConfState(r);
  return { metadata: { index, term, confState }, data: r.bytes() };
}

/** Encodes a message for the peer transport. */
export function encodeMessage(m: Message): Uint8Array {
  let size = 64 + m.context.byteLength;
  for (const e of m.entries) size += e.data.byteLength + 24;
  if (m.snapshot !== null) size += m.snapshot.data.byteLength + 64;
  const w = new Writer(size);
  w.u8(MESSAGE_FORMAT);
  w.u8(m.type);
  w.id(m.from);
  w.id(m.to);
  w.varint(m.term);
  w.varint(m.logTerm);
  w.varint(m.index);
  w.varint(m.commit);
  w.varint(m.rejectHint);
  w.u8((m.reject ? 1 : 0) | (m.snapshot !== null ? 2 : 0));
  w.bytes(m.context);
  w.varint(m.entries.length);
  for (const e of m.entries) writeEntry(w, e);
  if (m.snapshot !== null) writeSnapshot(w, m.snapshot);
  return w.finish();
}

/**
 * Decodes a message; throws {@link DecodeError} on anything malformed. The
 * message's byte strings (entry data, context) are views into a copy of
 * `bytes`, or into `bytes` itself when `owned`: a caller that made the
 * buffer for this message alone and lets it go saves the copy.
 */
export function decodeMessage(bytes: Uint8Array, owned = false): Message {
  const r = new Reader(bytes, owned);
  const format = r.u8();
  if (format !== MESSAGE_FORMAT) throw new DecodeError(`unknown message format ${format}`);
  const type = r.u8();
  if (!MESSAGE_TYPES.has(type)) throw new DecodeError(`unknown message type ${type}`);
  const from = r.id();
  const to = r.id();
  const term = r.varint();
  const logTerm = r.varint();
  const index = r.varint();
  const commit = r.varint();
  const rejectHint = r.varint();
  const flags = r.u8();
  if (flags > 3) throw new DecodeError(`unknown message flags ${flags}`);
  const context = r.bytes();
  const entries: Entry[] = [];
  for (let n = r.count(4); n > 0; n--) entries.push(readEntry(r));
  const snapshot = (flags & 2) !== 0 ? readSnapshot(r) : null;
  r.end();
  return {
    type: type as MessageType,
    from,
    to,
    term,
    logTerm,
    index,
    entries,
    commit,
    reject: (flags & 1) !== 0,
    rejectHint,
    snapshot,
    context,
  };
}

/** Encodes one log entry (for example, for a write-ahead log row). */
export function encodeEntry(e: Entry): Uint8Array {
  const w = new Writer(e.data.byteLength + 24);
  writeEntry(w, e);
  return w.finish();
}

/** Decodes one log entry. */
export function decodeEntry(bytes: Uint8Array): Entry {
  const r = new Reader(bytes);
  const e = readEntry(r);
  r.end();
  return e;
}

/** Encodes a membership change (the data of a ConfChange entry). */
export function encodeConfChange(cc: ConfChange): Uint8Array {
  const w = new Writer(cc.context.byteLength + 16);
  w.u8(cc.type);
  w.id(cc.nodeId);
  w.bytes(cc.context);
  return w.finish();
}

/** Decodes a membership change. */
export function decodeConfChange(bytes: Uint8Array): ConfChange {
  const r = new Reader(bytes);
  const type = r.u8();
  if (!CONF_CHANGE_TYPES.has(type)) throw new DecodeError(`unknown conf change type ${type}`);
  const nodeId = r.id();
  const context = r.bytes();
  r.end();
  return { type: type as ConfChangeType, nodeId, context };
}

/** Encodes a configuration (for storing beside a snapshot). */
export function encodeConfState(cs: ConfState): Uint8Array {
  const w = new Writer(16 + 8 * (cs.voters.length + cs.learners.length));
  writeConfState(w, cs);
  return w.finish();
}

/** Decodes a configuration. */
export function decodeConfState(bytes: Uint8Array): ConfState {
  const r = new Reader(bytes);
  const cs = readConfState(r);
  r.end();
  return cs;
}
