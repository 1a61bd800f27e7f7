/**
 * Length-prefixed framing for the peer transport: one HTTP body carries many
 * encoded raft messages, each as a 4-byte big-endian length and its bytes.
 */

/** The most bytes one frame may declare (a raft message with a full append batch). */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024;

/** Raised when a peer sends a body that is not a well-formed frame sequence. */
export class FrameError extends Error {
  override readonly name = "FrameError";
  readonly code = "ERR_PEER_FRAME";
}

/** Concatenates `frames` into one body with a length prefix before each. */
export function encodeFrames(frames: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const f of frames) total += 4 + f.byteLength;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const f of frames) {
    view.setUint32(at, f.byteLength);
    out.set(f, at + 4);
    at += 4 + f.byteLength;
  }
  return out;
}

/** Splits a body made by {@link encodeFrames}; throws {@link FrameError} on any damage. */
export function decodeFrames(body: Uint8Array): Uint8Array[] {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const frames: Uint8Array[] = [];
  let at = 0;
  while (at < body.byteLength) {
    if (at + 4 > body.byteLength) throw new FrameError("truncated frame header");
    const length = view.getUint32(at);
    if (length > MAX_FRAME_BYTES) throw new FrameError(`frame of ${length} bytes is too large`);
    const start = at + 4;
    if (start + length > body.byteLength) throw new FrameError("truncated frame");
    frames.push(body.subarray(start, start + length));
    at = start + length;
  }
  return frames;
}

/**
 * Splits a byte stream of length-prefixed frames as it arrives, in chunks cut
 * anywhere: `push` returns the frames a chunk completes. Zero-length frames
 * are keep-alives and are skipped.
 */
export class FrameReader {
  #buffer = new Uint8Array(0);

  /** Adds `chunk`; returns every frame now complete (throws {@link FrameError} on damage). */
  push(chunk: Uint8Array): Uint8Array[] {
    // A plain view, so `slice` below copies even when a runtime hands in a
    // Node Buffer (whose `slice` is a view of a shared read buffer).
    let data = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.#buffer.byteLength > 0) {
      data = new Uint8Array(this.#buffer.byteLength + chunk.byteLength);
      data.set(this.#buffer);
      data.set(chunk, this.#buffer.byteLength);
    }
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const frames: Uint8Array[] = [];
    let at = 0;
    while (at + 4 <= data.byteLength) {
      const length = view.getUint32(at);
      if (length > MAX_FRAME_BYTES) throw new FrameError(`frame of ${length} bytes is too large`);
      if (at + 4 + length > data.byteLength) break;
      if (length > 0) frames.push(data.slice(at + 4, at + 4 + length));
      at += 4 + length;
    }
    this.#buffer = at === data.byteLength ? new Uint8Array(0) : data.slice(at);
    return frames;
  }
}
