// Request parsing with Go's semantics (net/url, net/http, strconv), because
// etcd's answers to odd input are Go's answers (spec §3.2). Everything works
// on "byte strings" (one char per byte) until the final UTF-8 decode.

/** A parse failure whose message is Go's error text (the 210 cause). */
export class FormError extends Error {
  override readonly name = "FormError";
  readonly code = "KV_FORM";
}

const HEXV = (c: number): number =>
  c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;

/** Any char past ASCII (one byte of a multi-byte sequence, in a byte string). */
const NON_ASCII = /[^\x00-\x7f]/;

/** Go's strconv.Quote of a short byte string (for `invalid URL escape "%zz"`). */
function goQuote(bytes: string): string {
  let out = '"';
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes.charCodeAt(i);
    if (c === 34) out += '\\"';
    else if (c === 92) out += "\\\\";
    else if (c >= 0x20 && c < 0x7f) out += bytes[i];
    else if (c === 7) out += "\\a";
    else if (c === 8) out += "\\b";
    else if (c === 12) out += "\\f";
    else if (c === 10) out += "\\n";
    else if (c === 13) out += "\\r";
    else if (c === 9) out += "\\t";
    else if (c === 11) out += "\\v";
    else {
      const rest = decodeGoUtf8(bytes.slice(i, i + 2));
      if (c >= 0xc2 && c < 0xe0 && rest.length === 1 && rest.charCodeAt(0) >= 0xa0) {
        out += rest;
        i++;
      } else out += `\\x${c.toString(16).padStart(2, "0")}`;
    }
  }
  return `${out}"`;
}

/**
 * Go's url unescape: `%XX` → byte; `+` → space in query mode.
 * @throws FormError `invalid URL escape "…"`.
 */
export function unescapeBytes(s: string, query: boolean): string {
  const pct = s.indexOf("%");
  if (pct === -1 && (!query || s.indexOf("+") === -1)) return s;
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 37) {
      const h = HEXV(s.charCodeAt(i + 1));
      const l = HEXV(s.charCodeAt(i + 2));
      if (i + 2 >= s.length || h < 0 || l < 0) {
        throw new FormError(`invalid URL escape ${goQuote(s.slice(i, i + 3))}`);
      }
      out += String.fromCharCode((h << 4) | l);
      i += 2;
    } else if (c === 43 && query) out += " ";
    else out += s[i];
  }
  return out;
}

/**
 * UTF-8 bytes (a byte string) to a JS string the way Go sees them: valid
 * sequences decode (no overlongs, surrogates or > U+10FFFF); each invalid
 * byte becomes the lone surrogate U+DC00+byte, so the exact bytes survive
 * and the JSON writer can print Go's `\ufffd` for them.
 */
export function decodeGoUtf8(b: string): string {
  // The regular expression finds the first byte past ASCII several times
  // faster than a loop over charCodeAt (a 256-byte value: 0.4 against 1.5 µs).
  let i = b.search(NON_ASCII);
  if (i === -1) return b;
  const n = b.length;
  let out = b.slice(0, i);
  while (i < n) {
    const c0 = b.charCodeAt(i);
    if (c0 < 0x80) {
      out += b[i];
      i++;
      continue;
    }
    const c1 = b.charCodeAt(i + 1);
    const c2 = b.charCodeAt(i + 2);
    const c3 = b.charCodeAt(i + 3);
    const cont = (x: number): boolean => x >= 0x80 && x <= 0xbf;
    if (c0 >= 0xc2 && c0 <= 0xdf && cont(c1)) {
      out += String.fromCharCode(((c0 & 0x1f) << 6) | (c1 & 0x3f));
      i += 2;
    } else if (
      c0 >= 0xe0 &&
      c0 <= 0xef &&
      cont(c1) &&
      cont(c2) &&
      !(c0 === 0xe0 && c1 < 0xa0) &&
      !(c0 === 0xed && c1 > 0x9f)
    ) {
      out += String.fromCharCode(((c0 & 0x0f) << 12) | ((c1 & 0x3f) << 6) | (c2 & 0x3f));
      i += 3;
    } else if (
      c0 >= 0xf0 &&
      c0 <= 0xf4 &&
      cont(c1) &&
      cont(c2) &&
      cont(c3) &&
      !(c0 === 0xf0 && c1 < 0x90) &&
      !(c0 === 0xf4 && c1 > 0x8f)
    ) {
      out += String.fromCodePoint(
        ((c0 & 0x07) << 18) | ((c1 & 0x3f) << 12) | ((c2 & 0x3f) << 6) | (c3 & 0x3f),
      );
      i += 4;
    } else {
      out += String.fromCharCode(0xdc00 + c0);
      i++;
    }
  }
  return out;
}

const utf8 = new TextDecoder();

/** True when every byte is ASCII. */
function isAscii(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i]! > 0x7f) return false;
  return true;
}

/** Bytes to a byte string (one char per byte). */
export function bytesToBinary(bytes: Uint8Array): string {
  // ASCII, the usual form body, decodes to the same chars natively (a
  // 262-byte body: 0.6 against 1.6 µs through fromCharCode).
  if (isAscii(bytes)) return utf8.decode(bytes);
  let out = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    out += String.fromCharCode.apply(null, bytes.subarray(i, i + 8192) as unknown as number[]);
  }
  return out;
}

/**
 * Go's url.ParseQuery into `form`, keeping the first value of each name and
 * not overwriting names already present (so body values, parsed first, win
 * over the query string, as with Go's r.Form). Returns Go's first error
 * text, or undefined; like Go it keeps parsing after an error.
 */
export function parseQueryInto(form: Map<string, string>, query: string): string | undefined {
  let err: string | undefined;
  let start = 0;
  const n = query.length;
  while (start <= n && n > 0) {
    let amp = query.indexOf("&", start);
    if (amp === -1) amp = n;
    const part = query.slice(start, amp);
    start = amp + 1;
    if (part.includes(";")) {
      err = "invalid semicolon separator in query";
    } else if (part !== "") {
      const eq = part.indexOf("=");
      try {
        const k = decodeGoUtf8(unescapeBytes(eq === -1 ? part : part.slice(0, eq), true));
        const v = eq === -1 ? "" : decodeGoUtf8(unescapeBytes(part.slice(eq + 1), true));
        if (!form.has(k)) form.set(k, v);
      } catch (e) {
        if (err === undefined && e instanceof FormError) err = e.message;
        else if (!(e instanceof FormError)) throw e;
      }
    }
    if (amp === n) break;
  }
  return err;
}

/** strconv.ParseBool; undefined for anything else. */
export function parseGoBool(s: string): boolean | undefined {
  switch (s) {
    case "1":
    case "t":
    case "T":
    case "TRUE":
    case "true":
    case "True":
      return true;
    case "0":
    case "f":
    case "F":
    case "FALSE":
    case "false":
    case "False":
      return false;
    default:
      return undefined;
  }
}

const MAX_U64 = 18446744073709551615n;

/** strconv.ParseUint(s, 10, 64) as a bigint; undefined when invalid or out of range. */
export function parseGoUint64(s: string): bigint | undefined {
  if (s.length === 0 || s.length > 20) return undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
  }
  const v = BigInt(s);
  return v > MAX_U64 ? undefined : v;
}

const TSPECIALS = '()<>@,;:\\"/[]?= ';
const FORM_TYPE = "application/x-www-form-urlencoded";
const FORM_MEDIA: { readonly type: string } = Object.freeze({ type: FORM_TYPE });
function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f || TSPECIALS.includes(s[i]!)) return false;
  }
  return true;
}

/**
 * The media type of a Content-Type value as Go's mime.ParseMediaType sees
 * it (lower-cased), and its error text if any. Like Go, a bad parameter
 * still returns the media type.
 */
export function parseMediaType(ct: string): { type: string; error?: string } {
  if (ct === FORM_TYPE) return FORM_MEDIA; // what nearly every write sends
  const semi = ct.indexOf(";");
  const mt = (semi === -1 ? ct : ct.slice(0, semi)).trim().toLowerCase();
  const slash = mt.indexOf("/");
  if (mt === "") return { type: "", error: "mime: no media type" };
  if (slash === -1) {
    if (!isToken(mt)) return { type: "", error: "mime: no media type" };
    return { type: "", error: "mime: expected slash after first token" };
  }
  const major = mt.slice(0, slash);
  const minor = mt.slice(slash + 1);
  if (!isToken(major)) return { type: "", error: "mime: no media type" };
  if (minor === "" || !isToken(minor.split(/[ \t]/)[0] ?? "")) {
    return { type: "", error: "mime: expected token after slash" };
  }
  if (!isToken(minor)) return { type: "", error: "mime: unexpected content after media subtype" };
  if (semi !== -1) {
    const params = ct.slice(semi + 1).split(";");
    for (let i = 0; i < params.length; i++) {
      const p = params[i]!.trim();
      if (p === "" && i === params.length - 1) break;
      const eq = p.indexOf("=");
      const name = eq === -1 ? "" : p.slice(0, eq).trim();
      const value = eq === -1 ? "" : p.slice(eq + 1).trim();
      const quoted = value.length >= 2 && value.startsWith('"') && value.endsWith('"');
      if (!isToken(name) || !(quoted || isToken(value))) {
        return { type: mt, error: "mime: invalid media parameter" };
      }
    }
  }
  return { type: mt };
}
