// etcd's member and cluster ids (spec bootstrap.md §1). A small synchronous
// SHA-1 (crypto.subtle is async, and ids are needed in constructors).

function sha1(data: Uint8Array): Uint8Array {
  const ml = data.length;
  const withPad = ((ml + 9 + 63) >> 6) << 6;
  const buf = new Uint8Array(withPad);
  buf.set(data);
  buf[ml] = 0x80;
  const view = new DataView(buf.buffer);
  view.setUint32(withPad - 4, (ml * 8) >>> 0);
  view.setUint32(withPad - 8, Math.floor((ml * 8) / 2 ** 32));
  let h0 = 0x67452301;
  let h1 = 0xefcdab89;
  let h2 = 0x98badcfe;
  let h3 = 0x10325476;
  let h4 = 0xc3d2e1f0;
  const w = new Uint32Array(80);
  for (let off = 0; off < withPad; off += 64) {
    for (let i = 0; i < 16; i++) w[i] = view.getUint32(off + i * 4);
    for (let i = 16; i < 80; i++) {
      const x = w[i - 3]! ^ w[i - 8]! ^ w[i - 14]! ^ w[i - 16]!;
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
      const t = (((a << 5) | (a >>> 27)) + f + e + k + w[i]!) >>> 0;
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
  const ov = new DataView(out.buffer);
  for (const [i, h] of [h0, h1, h2, h3, h4].entries()) ov.setUint32(i * 4, h);
  return out;
}

function first8(hash: Uint8Array): bigint {
  let v = 0n;
  for (let i = 0; i < 8; i++) v = (v << 8n) | BigInt(hash[i]!);
  return v;
}

/** SHA-1 of `input` as lowercase hex (exported for tests). */
export function sha1Hex(input: string): string {
  return [...sha1(new TextEncoder().encode(input))]
    .map((b) => b.toString(16).padStart(2, "0"))
    .join("");
}

/** A bootstrap member id: SHA-1 over the sorted peer URLs concatenated and the token, first 8 bytes. */
export function computeMemberId(peerURLs: readonly string[], token: string): bigint {
  const s = [...peerURLs].sort().join("") + token;
  return first8(sha1(new TextEncoder().encode(s)));
}

/** The cluster id: SHA-1 over the member ids sorted ascending, 8 bytes big-endian each. */
export function computeClusterId(memberIds: readonly bigint[]): bigint {
  const ids = [...memberIds].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const buf = new Uint8Array(ids.length * 8);
  const view = new DataView(buf.buffer);
  for (const [i, id] of ids.entries()) view.setBigUint64(i * 8, id);
  return first8(sha1(buf));
}

/** An id as etcd prints it: lowercase hex without padding. */
export function idHex(id: bigint): string {
  return id.toString(16);
}
