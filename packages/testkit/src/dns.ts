/**
 * A small authoritative DNS server for tests (RFC 1035 over UDP, on 127.0.0.1
 * and a free port): it answers SRV, A and AAAA questions from a record table
 * the test gives it, and remembers every question, so a test can point a
 * resolver (`--discovery-srv-resolver`, `dns.Resolver#setServers`) at it and
 * see what was asked. Enough DNS for SRV bootstrap; no zone transfers, no
 * TCP, no recursion.
 */
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import { isIPv4, isIPv6 } from "node:net";

/** One SRV answer: where a service runs (RFC 2782). */
export interface SrvRecordSpec {
  readonly target: string;
  readonly port: number;
  /** Lower is preferred (default 0). */
  readonly priority?: number;
  /** Relative weight within a priority (default 0). */
  readonly weight?: number;
}

/**
 * The records a {@link DnsServer} serves, by owner name (case-insensitive, a
 * trailing dot optional): `srv["_etcd-server._tcp.example.test"]`,
 * `a["m1.example.test"] = ["127.0.0.1"]`.
 */
export interface DnsRecords {
  readonly srv?: Readonly<Record<string, readonly SrvRecordSpec[]>>;
  readonly a?: Readonly<Record<string, readonly string[]>>;
  readonly aaaa?: Readonly<Record<string, readonly string[]>>;
}

/** A question the server received. */
export interface DnsQuery {
  /** The name as asked, lower-cased, without a trailing dot. */
  readonly name: string;
  /** `SRV`, `A`, `AAAA`, or `TYPE<n>` for anything else. */
  readonly type: string;
}

/** A running test DNS server. */
export interface DnsServer {
  /** `127.0.0.1` */
  readonly host: string;
  readonly port: number;
  /** `127.0.0.1:<port>`, the form resolvers' `setServers` and `--discovery-srv-resolver` take. */
  readonly address: string;
  /** Every question received so far, in order. */
  queries(): DnsQuery[];
  /** Replaces the record table (questions already answered stay answered). */
  setRecords(records: DnsRecords): void;
  stop(): Promise<void>;
}

const TYPE_A = 1;
const TYPE_AAAA = 28;
const TYPE_SRV = 33;
const CLASS_IN = 1;
const TYPE_NAMES: Record<number, string> = {
  [TYPE_A]: "A",
  [TYPE_AAAA]: "AAAA",
  [TYPE_SRV]: "SRV",
};
const RCODE_OK = 0;
const RCODE_FORMERR = 1;
const RCODE_NXDOMAIN = 3;
const RCODE_NOTIMP = 4;
/** The classic UDP payload limit; a longer answer is sent truncated (TC) with no records. */
const MAX_UDP = 512;
/** Short TTLs: tests change records between runs. */
const TTL_SECONDS = 1;

/** Owner names compare case-insensitively and without the root dot (RFC 4343). */
function normalize(name: string): string {
  return name.toLowerCase().replace(/\.$/, "");
}

/** A name in wire format: length-prefixed labels, a zero byte (no compression). */
function encodeName(name: string): Buffer {
  const labels = normalize(name) === "" ? [] : name.replace(/\.$/, "").split(".");
  const parts: Buffer[] = [];
  for (const label of labels) {
    const bytes = Buffer.from(label, "ascii");
    if (bytes.length === 0 || bytes.length > 63) throw new Error(`bad DNS label in ${name}`);
    parts.push(Buffer.from([bytes.length]), bytes);
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

/** Reads a (possibly compressed) name at `offset`; returns it and the offset after it. */
function decodeName(msg: Buffer, offset: number): { name: string; next: number } {
  const labels: string[] = [];
  let pos = offset;
  let next = -1;
  // Each pointer must go backwards, so at most msg.length jumps.
  for (let hops = 0; hops <= msg.length; hops++) {
    const len = msg.readUInt8(pos);
    if (len === 0) {
      return { name: labels.join("."), next: next < 0 ? pos + 1 : next };
    }
    if ((len & 0xc0) === 0xc0) {
      const target = msg.readUInt16BE(pos) & 0x3fff;
      if (target >= pos) throw new Error("forward compression pointer");
      if (next < 0) next = pos + 2;
      pos = target;
      continue;
    }
    if (len > 63) throw new Error("bad label length");
    if (pos + 1 + len > msg.length) throw new Error("label past the end");
    labels.push(msg.toString("ascii", pos + 1, pos + 1 + len));
    pos += 1 + len;
  }
  throw new Error("compression loop");
}

/** One resource record in wire format, owner name uncompressed. */
function encodeRecord(name: string, type: number, rdata: Buffer): Buffer {
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(type, 0);
  fixed.writeUInt16BE(CLASS_IN, 2);
  fixed.writeUInt32BE(TTL_SECONDS, 4);
  fixed.writeUInt16BE(rdata.length, 8);
  return Buffer.concat([encodeName(name), fixed, rdata]);
}

function ipv4Bytes(ip: string): Buffer {
  return Buffer.from(ip.split(".").map(Number));
}

function ipv6Bytes(ip: string): Buffer {
  const [head = "", tail] = ip.split("::");
  const groups = (s: string) => (s === "" ? [] : s.split(":"));
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const zeros = Array(8 - left.length - right.length).fill("0");
  const all = tail === undefined ? left : [...left, ...zeros, ...right];
  const out = Buffer.alloc(16);
  all.forEach((g, i) => {
    out.writeUInt16BE(Number.parseInt(g, 16), 2 * i);
  });
  return out;
}

function srvRdata(r: SrvRecordSpec): Buffer {
  const fixed = Buffer.alloc(6);
  fixed.writeUInt16BE(r.priority ?? 0, 0);
  fixed.writeUInt16BE(r.weight ?? 0, 2);
  fixed.writeUInt16BE(r.port, 4);
  return Buffer.concat([fixed, encodeName(r.target)]);
}

/** The record table with normalized owner names, checked once. */
interface Table {
  readonly srv: Map<string, readonly SrvRecordSpec[]>;
  readonly a: Map<string, readonly string[]>;
  readonly aaaa: Map<string, readonly string[]>;
}

function buildTable(records: DnsRecords): Table {
  const map = <T>(r: Readonly<Record<string, readonly T[]>> | undefined) =>
    new Map(Object.entries(r ?? {}).map(([k, v]) => [normalize(k), v] as const));
  const table = { srv: map(records.srv), a: map(records.a), aaaa: map(records.aaaa) };
  for (const [name, ips] of table.a) {
    for (const ip of ips) if (!isIPv4(ip)) throw new Error(`A record ${name}: ${ip} is not IPv4`);
  }
  for (const [name, ips] of table.aaaa) {
    for (const ip of ips)
      if (!isIPv6(ip)) throw new Error(`AAAA record ${name}: ${ip} is not IPv6`);
  }
  return table;
}

/** The answer section for a question, or undefined when the name has no records at all. */
function answersFor(table: Table, name: string, type: number): Buffer[] | undefined {
  const key = normalize(name);
  if (!table.srv.has(key) && !table.a.has(key) && !table.aaaa.has(key)) return undefined;
  if (type === TYPE_SRV) {
    return (table.srv.get(key) ?? []).map((r) => encodeRecord(name, TYPE_SRV, srvRdata(r)));
  }
  if (type === TYPE_A) {
    return (table.a.get(key) ?? []).map((ip) => encodeRecord(name, TYPE_A, ipv4Bytes(ip)));
  }
  if (type === TYPE_AAAA) {
    return (table.aaaa.get(key) ?? []).map((ip) => encodeRecord(name, TYPE_AAAA, ipv6Bytes(ip)));
  }
  // The name exists, the type is not one we hold: NODATA (no error, no answers).
  return [];
}

/**
 * Builds the reply to one query message, or undefined for something that is
 * not a query at all (too short, or already a response): those are dropped.
 */
function answerQuery(table: Table, msg: Buffer, seen: (q: DnsQuery) => void): Buffer | undefined {
  if (msg.length < 12) return undefined;
  const id = msg.readUInt16BE(0);
  const flags = msg.readUInt16BE(2);
  if ((flags & 0x8000) !== 0) return undefined;
  const opcode = (flags >> 11) & 0xf;
  const rd = flags & 0x0100;
  const reply = (rcode: number, question: Buffer, answers: Buffer[]) => {
    const header = Buffer.alloc(12);
    header.writeUInt16BE(id, 0);
    // QR, the opcode back, AA (we are the authority), RD back, RA.
    header.writeUInt16BE(0x8000 | (opcode << 11) | 0x0400 | rd | 0x0080 | rcode, 2);
    header.writeUInt16BE(question.length > 0 ? 1 : 0, 4);
    header.writeUInt16BE(answers.length, 6);
    const full = Buffer.concat([header, question, ...answers]);
    if (full.length <= MAX_UDP) return full;
    header.writeUInt16BE(header.readUInt16BE(2) | 0x0200, 2);
    header.writeUInt16BE(0, 6);
    return Buffer.concat([header, question]);
  };
  if (opcode !== 0) return reply(RCODE_NOTIMP, Buffer.alloc(0), []);
  if (msg.readUInt16BE(4) !== 1) return reply(RCODE_FORMERR, Buffer.alloc(0), []);
  let name: string;
  let next: number;
  try {
    ({ name, next } = decodeName(msg, 12));
    if (next + 4 > msg.length) throw new Error("question cut short");
  } catch {
    return reply(RCODE_FORMERR, Buffer.alloc(0), []);
  }
  const type = msg.readUInt16BE(next);
  const qclass = msg.readUInt16BE(next + 2);
  // The question goes back as asked (a resolver checks it byte for byte, case included).
  const question = msg.subarray(12, next + 4);
  seen({ name: normalize(name), type: TYPE_NAMES[type] ?? `TYPE${type}` });
  if (qclass !== CLASS_IN) return reply(RCODE_NXDOMAIN, question, []);
  const answers = answersFor(table, name, type);
  return answers === undefined
    ? reply(RCODE_NXDOMAIN, question, [])
    : reply(RCODE_OK, question, answers);
}

/**
 * Starts a DNS server on 127.0.0.1 (UDP, a port the kernel picks) serving
 * `records`. Names with no records answer NXDOMAIN; a known name asked for a
 * type it lacks answers with no records (NODATA).
 */
export async function startDnsServer(options: { records: DnsRecords }): Promise<DnsServer> {
  let table = buildTable(options.records);
  const seen: DnsQuery[] = [];
  const socket: Socket = createSocket("udp4");
  socket.on("message", (msg: Buffer, from: RemoteInfo) => {
    const out = answerQuery(table, msg, (q) => seen.push(q));
    if (out !== undefined) socket.send(out, from.port, from.address);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind({ address: "127.0.0.1", port: 0 }, () => {
      socket.off("error", reject);
      resolve();
    });
  });
  // A send to a client that went away must not crash the test process.
  socket.on("error", () => {});
  const port = socket.address().port;
  let stopped: Promise<void> | undefined;
  return {
    host: "127.0.0.1",
    port,
    address: `127.0.0.1:${port}`,
    queries: () => [...seen],
    setRecords(records) {
      table = buildTable(records);
    },
    stop() {
      stopped ??= new Promise((resolve) => socket.close(() => resolve()));
      return stopped;
    },
  };
}
