/**
 * A page of the raft log read in one SQLite result row, and its checks.
 * Shared by {@link RaftStorage.entries} and the read-ahead worker, which
 * reads the log of a restarting member off the main thread.
 */
import { crc32 } from "./crc32.js";
import { CorruptionError } from "./errors.js";

/** One raft log entry as stored (the same shape as the raft core's). */
export interface LogEntry {
  index: number;
  term: number;
  /** Entry type as the raft core numbers it (normal, conf change, …). */
  type: number;
  data: Uint8Array;
}

/**
 * Up to `?3` entries from index `?1` below `?2`, as one row: every entry's
 * header fields as decimal text (`idx,term,type,crc,length` per entry, comma
 * separated) and their data concatenated into one blob (CAST keeps a blob's
 * bytes as they are). A row per entry costs a driver an object, four
 * bigints and a Buffer each: most of the time of a restart's replay. Both
 * aggregates see the rows in the same order, and every entry is still
 * checked against its index and checksum, so nothing can be misread.
 */
export const PACKED_RANGE_SQL =
  "SELECT group_concat(idx || ',' || term || ',' || type || ',' || crc || ',' || length(data), ',') AS head," +
  " CAST(group_concat(data, '') AS BLOB) AS data" +
  " FROM (SELECT idx, term, type, data, crc FROM raft_entries WHERE idx >= ? AND idx < ? ORDER BY idx LIMIT ?)";

const headerScratch = new DataView(new ArrayBuffer(20));
const headerBytes = new Uint8Array(headerScratch.buffer);

/** CRC-32 over index, term and type (little-endian) then data: a moved or retyped entry fails too. */
export function entryChecksum(index: number, term: number, type: number, data: Uint8Array): number {
  headerScratch.setFloat64(0, index, true);
  headerScratch.setFloat64(8, term, true);
  headerScratch.setInt32(16, type, true);
  return crc32(data, crc32(headerBytes));
}

/**
 * The entries of a packed page read from index `first` on: consecutive, each
 * with its data's length, and (with `verify`) each matching its checksum.
 * Entries' data are views into `data` (no copy).
 * @throws CorruptionError naming `path` for anything that does not add up.
 */
export function unpackLogPage(
  path: string,
  first: number,
  head: string,
  data: Uint8Array,
  verify: boolean,
): LogEntry[] {
  const out: LogEntry[] = [];
  let offset = 0;
  let at = 0;
  // The header is read in place: splitting it made five strings per entry.
  // `what` is a constant: a message is only built for a bad field.
  const field = (what: string): number => {
    const start = at;
    let n = 0;
    for (; at < head.length; at++) {
      const c = head.charCodeAt(at);
      if (c === 44) break; // ','
      n = c >= 48 && c <= 57 ? n * 10 + (c - 48) : Number.NaN;
    }
    if (at === start || !Number.isSafeInteger(n)) {
      const text = head.slice(start, at);
      const entry = first + out.length;
      throw new CorruptionError(
        path,
        `${what} of log entry ${entry} is not a safe integer: ${text}`,
      );
    }
    at++;
    return n;
  };
  while (at < head.length) {
    const expected = first + out.length;
    const index = field("index");
    if (index !== expected) {
      throw new CorruptionError(path, `log entry ${expected} is missing (found ${index})`);
    }
    const term = field("term");
    const type = field("type");
    const crc = field("checksum");
    const end = offset + field("data length");
    if (end > data.byteLength) {
      throw new CorruptionError(path, `data of log entry ${index} is cut short`);
    }
    const bytes = data.subarray(offset, end);
    offset = end;
    if (verify && entryChecksum(index, term, type, bytes) !== crc) {
      throw new CorruptionError(path, `checksum mismatch in log entry ${index}`);
    }
    out.push({ index, term, type, data: bytes });
  }
  if (offset !== data.byteLength) {
    throw new CorruptionError(path, `log page from entry ${first} does not add up`);
  }
  return out;
}
