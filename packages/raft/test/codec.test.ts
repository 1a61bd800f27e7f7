import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type ConfChange,
  ConfChangeType,
  DecodeError,
  decodeConfChange,
  decodeConfState,
  decodeEntry,
  decodeMessage,
  type Entry,
  EntryType,
  encodeConfChange,
  encodeConfState,
  encodeEntry,
  encodeMessage,
  type Message,
  MessageType,
  newMessage,
} from "../src/index.js";

const index = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const id = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const data = fc.uint8Array({ maxLength: 64 });

const entry: fc.Arbitrary<Entry> = fc.record({
  index,
  term: index,
  type: fc.constantFrom(EntryType.Normal, EntryType.ConfChange),
  data,
});

const confState = fc.record({
  voters: fc.array(id, { maxLength: 7 }),
  learners: fc.array(id, { maxLength: 3 }),
});

const message: fc.Arbitrary<Message> = fc.record({
  type: fc.constantFrom(...Object.values(MessageType)),
  from: id,
  to: id,
  term: index,
  logTerm: index,
  index,
  entries: fc.array(entry, { maxLength: 8 }),
  commit: index,
  reject: fc.boolean(),
  rejectHint: index,
  snapshot: fc.option(
    fc.record({
      metadata: fc.record({ index, term: index, confState }),
      data,
    }),
    { nil: null },
  ),
  context: data,
});

/** An append from 1 to 2 in term 3 carrying one three-byte entry at `index`. */
function appendOf(index: number): Message {
  return newMessage({
    type: MessageType.App,
    from: 1n,
    to: 2n,
    term: 3,
    entries: [{ index, term: 3, type: EntryType.Normal, data: new Uint8Array([1, 2, 3]) }],
  });
}

describe("codec", () => {
  it("messages round-trip (property)", () => {
    fc.assert(
      fc.property(message, (m) => {
        expect(decodeMessage(encodeMessage(m))).toEqual(m);
      }),
      { numRuns: 500 },
    );
  });

  it("a message decodes from a buffer handed over without a copy, or from a copy", () => {
    const m = appendOf(7);
    const owned = encodeMessage(m);
    const kept = decodeMessage(owned, true);
    expect(kept).toEqual(m);
    expect(kept.entries[0]!.data.buffer).toBe(owned.buffer); // a view: no copy made
    const shared = encodeMessage(m);
    const copied = decodeMessage(shared);
    shared.fill(0); // the caller reuses its buffer: the message keeps its bytes
    expect(copied).toEqual(m);
  });

  it("entries, conf changes and conf states round-trip (property)", () => {
    fc.assert(
      fc.property(entry, (e) => {
        expect(decodeEntry(encodeEntry(e))).toEqual(e);
      }),
    );
    const cc: fc.Arbitrary<ConfChange> = fc.record({
      type: fc.constantFrom(...Object.values(ConfChangeType)),
      nodeId: id,
      context: data,
    });
    fc.assert(
      fc.property(cc, (c) => {
        expect(decodeConfChange(encodeConfChange(c))).toEqual(c);
      }),
    );
    fc.assert(
      fc.property(confState, (c) => {
        expect(decodeConfState(encodeConfState(c))).toEqual(c);
      }),
    );
  });

  it("is compact: a heartbeat fits in a few dozen bytes", () => {
    const hb = newMessage({ type: MessageType.Heartbeat, from: 1n, to: 2n, term: 5, commit: 1000 });
    expect(encodeMessage(hb).byteLength).toBeLessThanOrEqual(32);
    const app = newMessage({
      type: MessageType.App,
      from: 1n,
      to: 2n,
      term: 5,
      index: 99,
      logTerm: 5,
      entries: [{ index: 100, term: 5, type: EntryType.Normal, data: new Uint8Array(10) }],
    });
    expect(encodeMessage(app).byteLength).toBeLessThanOrEqual(50);
  });

  it("any truncation or corruption is a DecodeError, never a wrong value or a crash", () => {
    const m = appendOf(1);
    const bytes = encodeMessage(m);
    for (let n = 0; n < bytes.length; n++) {
      expect(() => decodeMessage(bytes.subarray(0, n))).toThrow(DecodeError);
    }
    expect(() => decodeMessage(new Uint8Array([...bytes, 0]))).toThrow(DecodeError);
    expect(() => decodeMessage(new Uint8Array([9, ...bytes.subarray(1)]))).toThrow(DecodeError);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (junk) => {
        try {
          decodeMessage(junk);
        } catch (err) {
          expect(err).toBeInstanceOf(DecodeError);
        }
      }),
    );
  });

  it("decoded byte strings are copies, safe from reuse of the input buffer", () => {
    const e = { index: 1, term: 1, type: EntryType.Normal, data: new Uint8Array([7, 7]) } as Entry;
    const buf = encodeEntry(e);
    const d = decodeEntry(buf);
    buf.fill(0);
    expect([...d.data]).toEqual([7, 7]);
  });

  it("refuses numbers it cannot encode exactly", () => {
    const m = newMessage({ type: MessageType.App, to: 1n, term: 2 ** 53 });
    expect(() => encodeMessage(m)).toThrow(RangeError);
    expect(() => encodeMessage(newMessage({ type: MessageType.App, to: -1n }))).toThrow(RangeError);
  });
});
