/**
 * Member and cluster identity, computed exactly as etcd 3.4 computes it
 * (spec bootstrap.md §1), so a Cairn cluster bootstrapped from the same flags
 * as an etcd cluster has the same member ids and cluster id, and ids print
 * the way etcd prints them.
 *
 * Synchronous and dependency-free (a small SHA-1 below, checked against
 * `crypto.subtle` in the tests): ids are needed while constructing a member,
 * and the code must run unchanged on Node, Bun and Deno.
 */

/** A string that is not a 64-bit id in etcd's hex form. */
export class IdSyntaxError extends Error {
  override readonly name = "IdSyntaxError";
  readonly code = "ID_SYNTAX";
}

const UINT64_MAX = (1n << 64n) - 1n;

/** SHA-1 (FIPS 180-4) of `data`. Not for security: etcd uses it to derive ids. */
export function sha1(data: Uint8Array): Uint8Array {
  const bitLength = BigInt(data.length) * 8n;
  // Message + 0x80 + zero padding + 64-bit big-endian length, to a multiple of 64 bytes.
  const padded = new Uint8Array(Math.ceil((data.length + 9) / 64) * 64);
  padded.set(data);
  padded[data.length] = 0x80;
  const view = new DataView(padded.buffer);
  view.setBigUint64(padded.length - 8, bitLength);

  let h0 = 0x67452301;
  let h1 = 0xefcdab89;
  let h2 = 0x98badcfe;
  let h3 = 0x10325476;
  let h4 = 0xc3d2e1f0;
  const w = new Uint32Array(80);
  for (let offset = 0; offset < padded.length; offset += 64) {
    for (let i = 0; i < 16; i++) w[i] = view.getUint32(offset + i * 4);
    for (let i = 16; i < 80; i++) {
      const x = (w[i - 3] ?? 0) ^ (w[i - 8] ?? 0) ^ (w[i - 14] ?? 0) ^ (w[i - 16] ?? 0);
      w[i] = (x << 1) | (x >>> 31);
    }
    let a = h0;
    let b = h1;
    let c = h2;
    let d = h3;
    let e = h4;
    for (let i = 0; i < 80; i++) {
      let f: number;
      let k: number;
      if (i < 20) {
        f = (b & c) | (~b & d);
        k = 0x5a827999;
      } else if (i < 40) {
        f = b ^ c ^ d;
        k = 0x6ed9eba1;
      } else if (i < 60) {
        f = (b & c) | (b & d) | (c & d);
        k = 0x8f1bbcdc;
      } else {
        f = b ^ c ^ d;
        k = 0xca62c1d6;
      }
      const t = (((a << 5) | (a >>> 27)) + f + e + k + (w[i] ?? 0)) >>> 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = t;
    }
    h0 = (h0 + a) >>> 0;
    h1 = (h1 + b) >>> 0;
    h2 = (h2 + c) >>> 0;
    h3 = (h3 + d) >>> 0;
    h4 = (h4 + e) >>> 0;
  }
  const out = new Uint8Array(20);
  const outView = new DataView(out.buffer);
  [h0, h1, h2, h3, h4].forEach((h, i) => {
    outView.setUint32(i * 4, h);
  });
  return out;
}

/** The first 8 bytes of SHA-1(`data`) as a big-endian unsigned 64-bit integer. */
function hash64(data: Uint8Array): bigint {
  const digest = sha1(data);
  return new DataView(digest.buffer, digest.byteOffset, 8).getBigUint64(0);
}

/** Sorts strings by UTF-16 code units, which for URLs (ASCII) is Go's byte order. */
function sortedStrings(values: readonly string[]): string[] {
  return [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * etcd's `membership.NewMember` id: SHA-1 over the peer URLs sorted and
 * concatenated, then `token`, then (when given) the decimal Unix seconds;
 * the first 8 bytes big-endian. For a bootstrap member `token` is
 * `--initial-cluster-token` (or the full discovery URL); the member name does
 * not count.
 *
 * Golden value (spec §1): `["http://127.0.0.1:23800"]`, `"etcd-cluster"` ->
 * `0x2e1259d415f2a040`.
 */
export function computeMemberId(
  peerUrls: readonly string[],
  token: string,
  unixSeconds?: number | bigint,
): bigint {
  let text = sortedStrings(peerUrls).join("") + token;
  if (unixSeconds !== undefined) text += BigInt(unixSeconds).toString(10);
  return hash64(new TextEncoder().encode(text));
}

/**
 * Id of a member added at run time through the members API: etcd creates it
 * with no token and the current time, SHA-1(sorted peer URLs + decimal Unix
 * seconds). `unixSeconds` is the adding member's clock, `Math.floor(Date.now() / 1000)`.
 */
export function computeAddedMemberId(
  peerUrls: readonly string[],
  unixSeconds: number | bigint,
): bigint {
  return computeMemberId(peerUrls, "", unixSeconds);
}

/**
 * etcd's cluster id: the first 8 bytes of SHA-1 over every member id, sorted
 * ascending, each written as 8 big-endian bytes.
 */
export function computeClusterId(memberIds: readonly bigint[]): bigint {
  const sorted = [...memberIds].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const bytes = new Uint8Array(sorted.length * 8);
  const view = new DataView(bytes.buffer);
  sorted.forEach((id, i) => {
    view.setBigUint64(i * 8, BigInt.asUintN(64, id));
  });
  return hash64(bytes);
}

/** An id as etcd prints it: lowercase hex, no padding, no prefix (`types.ID.String()`). */
export function formatId(id: bigint): string {
  return BigInt.asUintN(64, id).toString(16);
}

/**
 * Reads an id as etcd does (`strconv.ParseUint(s, 16, 64)`): 1 to 16 hex
 * digits, either case, no prefix or sign. Throws {@link IdSyntaxError}.
 */
export function parseId(hex: string): bigint {
  if (!/^[0-9a-fA-F]+$/.test(hex)) {
    throw new IdSyntaxError(`invalid member id ${JSON.stringify(hex)}: not a hex number`);
  }
  const id = BigInt(`0x${hex}`);
  if (id > UINT64_MAX) {
    throw new IdSyntaxError(`invalid member id ${JSON.stringify(hex)}: more than 64 bits`);
  }
  return id;
}

/**
 * Splits `--initial-cluster` (`name=url[,name=url...]`) into name -> peer
 * URLs the way etcd's `types.NewURLsMap` does: empty items are skipped, a
 * name may repeat (one item per URL), URLs are trimmed and sorted per name,
 * names come back sorted. URL syntax is not checked here; the member's flag
 * parsing has done that with etcd's messages.
 */
export function parseInitialCluster(text: string): Map<string, string[]> {
  const grouped = new Map<string, string[]>();
  for (const item of text.split(",")) {
    if (item === "") continue;
    const eq = item.indexOf("=");
    const name = eq < 0 ? item : item.slice(0, eq);
    const url = (eq < 0 ? "" : item.slice(eq + 1)).trim();
    grouped.set(name, [...(grouped.get(name) ?? []), url]);
  }
  return new Map(
    sortedStrings([...grouped.keys()]).map((n) => [n, sortedStrings(grouped.get(n) ?? [])]),
  );
}

/** One member of a bootstrapping cluster, with its id. */
export interface BootstrapMember {
  readonly name: string;
  readonly id: bigint;
  readonly peerUrls: readonly string[];
}

/**
 * The members and cluster id a `new` cluster starts with, from the parsed
 * initial cluster and the token (etcd's `NewClusterFromURLsMap` + `genID`).
 * Members come back sorted by id, as etcd lists them.
 */
export function bootstrapIdentity(
  initialCluster: ReadonlyMap<string, readonly string[]>,
  token: string,
): { members: BootstrapMember[]; clusterId: bigint } {
  const members = [...initialCluster].map(([name, peerUrls]) => ({
    name,
    id: computeMemberId(peerUrls, token),
    peerUrls: sortedStrings(peerUrls),
  }));
  members.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { members, clusterId: computeClusterId(members.map((m) => m.id)) };
}
