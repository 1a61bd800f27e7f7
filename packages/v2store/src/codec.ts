import { V2CodecError } from "./errors.js";
import type { V2Request } from "./types.js";

// Compact positional JSON arrays: a few bytes of overhead per request, no
// field names, and decoding is one JSON.parse plus shape checks. The first
// element is the kind; flags pack the booleans.
const KIND = { PUT: 1, POST: 2, DELETE: 3, SYNC: 4, QGET: 5, INTERNAL: 6 } as const;
const F_DIR = 1;
const F_RECURSIVE = 2;
const F_REFRESH = 4;
const F_PREV_EXIST_SET = 8;
const F_PREV_EXIST = 16;
const F_SORTED = 32;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Encodes a request as raft entry data. `decodeRequest(encodeRequest(r))`
 * equals `r` up to defaults. `headroom` zero bytes come first, for the
 * caller's own header (the bytes after them are what `decodeRequest` takes).
 */
export function encodeRequest(req: V2Request, headroom = 0): Uint8Array {
  let arr: unknown[];
  switch (req.method) {
    case "PUT":
    case "POST":
    case "DELETE": {
      let flags = 0;
      if (req.dir === true) flags |= F_DIR;
      if (req.recursive === true) flags |= F_RECURSIVE;
      if (req.refresh === true) flags |= F_REFRESH;
      if (req.prevExist !== undefined)
        flags |= F_PREV_EXIST_SET | (req.prevExist ? F_PREV_EXIST : 0);
      arr = [
        KIND[req.method],
        req.key,
        req.value ?? "",
        flags,
        req.prevValue ?? "",
        req.prevIndex ?? 0,
        req.expiration ?? null,
        req.time,
      ];
      break;
    }
    case "SYNC":
      arr = [KIND.SYNC, req.time];
      break;
    case "QGET":
      arr = [
        KIND.QGET,
        req.key,
        (req.recursive === true ? F_RECURSIVE : 0) | (req.sorted === true ? F_SORTED : 0),
        req.time,
      ];
      break;
    case "INTERNAL":
      arr = [KIND.INTERNAL, req.key, req.value];
      break;
  }
  return encodeText(JSON.stringify(arr), headroom);
}

/**
 * `text` as UTF-8 after `headroom` zero bytes, in one allocation when the
 * text is ASCII, as requests nearly always are: an ASCII text takes as many
 * bytes as it has chars, and any other char takes more, so `encodeInto`
 * then stops short. (A new buffer costs more than encoding 300 bytes: the
 * copy behind a separate header used to double a write's encoding time.)
 */
function encodeText(text: string, headroom: number): Uint8Array {
  const out = new Uint8Array(headroom + text.length);
  if (encoder.encodeInto(text, out.subarray(headroom)).read === text.length) return out;
  const bytes = encoder.encode(text);
  if (headroom === 0) return bytes;
  const padded = new Uint8Array(headroom + bytes.byteLength);
  padded.set(bytes, headroom);
  return padded;
}

function str(v: unknown): string {
  if (typeof v !== "string") throw new V2CodecError("expected a string field");
  return v;
}
function int(v: unknown): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v)) {
    throw new V2CodecError("expected an integer field");
  }
  return v;
}

/**
 * Decodes what {@link encodeRequest} produced.
 * @throws V2CodecError when the bytes are not a valid encoded request.
 */
export function decodeRequest(data: Uint8Array): V2Request {
  let arr: unknown;
  try {
    arr = JSON.parse(decoder.decode(data));
  } catch (cause) {
    throw new V2CodecError("request data is not valid UTF-8 JSON", { cause });
  }
  if (!Array.isArray(arr)) throw new V2CodecError("request data is not an array");
  switch (arr[0]) {
    case KIND.PUT:
    case KIND.POST:
    case KIND.DELETE: {
      const method = arr[0] === KIND.PUT ? "PUT" : arr[0] === KIND.POST ? "POST" : "DELETE";
      const flags = int(arr[3]);
      const prevValue = str(arr[4]);
      const prevIndex = int(arr[5]);
      const req: {
        -readonly [K in keyof import("./types.js").WriteRequest]: import("./types.js").WriteRequest[K];
      } = {
        method,
        key: str(arr[1]),
        value: str(arr[2]),
        time: int(arr[7]),
      };
      if (flags & F_DIR) req.dir = true;
      if (flags & F_RECURSIVE) req.recursive = true;
      if (flags & F_REFRESH) req.refresh = true;
      if (flags & F_PREV_EXIST_SET) req.prevExist = (flags & F_PREV_EXIST) !== 0;
      if (prevValue !== "") req.prevValue = prevValue;
      if (prevIndex !== 0) req.prevIndex = prevIndex;
      if (arr[6] !== null) req.expiration = int(arr[6]);
      return req;
    }
    case KIND.SYNC:
      return { method: "SYNC", time: int(arr[1]) };
    case KIND.QGET: {
      const flags = int(arr[2]);
      return {
        method: "QGET",
        key: str(arr[1]),
        ...((flags & F_RECURSIVE) !== 0 ? { recursive: true } : {}),
        ...((flags & F_SORTED) !== 0 ? { sorted: true } : {}),
        time: int(arr[3]),
      };
    }
    case KIND.INTERNAL:
      return { method: "INTERNAL", key: str(arr[1]), value: arr[2] === null ? null : str(arr[2]) };
    default:
      throw new V2CodecError(`unknown request kind ${String(arr[0])}`);
  }
}
