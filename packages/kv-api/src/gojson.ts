// The syntax errors Go's encoding/json reports (its scanner's messages),
// because etcd's members API answers a bad body with that exact text.

function quoteChar(c: string): string {
  if (c === "'") return "'\\''";
  if (c === '"') return "'\"'";
  const code = c.charCodeAt(0);
  if (code === 10) return "'\\n'";
  if (code === 13) return "'\\r'";
  if (code === 9) return "'\\t'";
  if (code < 0x20 || code === 0x7f) return `'\\x${code.toString(16).padStart(2, "0")}'`;
  return `'${c}'`;
}

class SyntaxErr extends Error {}

/** Go's error text for invalid JSON, or undefined when `text` is valid JSON. */
export function goJsonSyntaxError(text: string): string | undefined {
  let i = 0;
  const n = text.length;
  const fail = (context: string): never => {
    if (i >= n) {
      // Go's scanner feeds a space at end of input: fine between tokens,
      // an invalid character inside a literal, number or escape.
      if (/^in |^after decimal/.test(context) && context !== "in string literal") {
        throw new SyntaxErr(`invalid character ' ' ${context}`);
      }
      throw new SyntaxErr("unexpected end of JSON input");
    }
    throw new SyntaxErr(
      `invalid character ${quoteChar(String.fromCodePoint(text.codePointAt(i)!))} ${context}`,
    );
  };
  const ws = () => {
    while (i < n && " \t\n\r".includes(text[i]!)) i++;
  };
  const digits = () => {
    while (i < n && text[i]! >= "0" && text[i]! <= "9") i++;
  };
  const value = (): void => {
    ws();
    if (i >= n) fail("");
    const c = text[i]!;
    if (c === "{") {
      i++;
      ws();
      if (text[i] === "}") {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail("looking for beginning of object key string");
        string();
        ws();
        if (text[i] !== ":") fail("after object key");
        i++;
        value();
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "}") {
          i++;
          return;
        }
        fail("after object key:value pair");
      }
    }
    if (c === "[") {
      i++;
      ws();
      if (text[i] === "]") {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "]") {
          i++;
          return;
        }
        fail("after array element");
      }
    }
    if (c === '"') {
      string();
      return;
    }
    if (c === "-" || (c >= "0" && c <= "9")) {
      if (c === "-") {
        i++;
        if (!(text[i]! >= "0" && text[i]! <= "9")) fail("in numeric literal");
      }
      if (text[i] === "0") i++;
      else digits();
      if (text[i] === ".") {
        i++;
        if (!(text[i]! >= "0" && text[i]! <= "9")) fail("after decimal point in numeric literal");
        digits();
      }
      if (text[i] === "e" || text[i] === "E") {
        i++;
        if (text[i] === "+" || text[i] === "-") i++;
        if (!(text[i]! >= "0" && text[i]! <= "9")) fail("in exponent of numeric literal");
        digits();
      }
      return;
    }
    for (const lit of ["true", "false", "null"]) {
      if (c === lit[0]) {
        i++;
        for (let k = 1; k < lit.length; k++) {
          if (text[i] !== lit[k]) fail(`in literal ${lit} (expecting '${lit[k]}')`);
          i++;
        }
        return;
      }
    }
    fail("looking for beginning of value");
  };
  const string = (): void => {
    i++; // opening quote
    for (;;) {
      if (i >= n) fail("");
      const c = text.charCodeAt(i);
      if (c === 34) {
        i++;
        return;
      }
      if (c < 0x20) fail("in string literal");
      if (c === 92) {
        i++;
        const e = text[i];
        if (e === undefined) fail("");
        if (e === "u") {
          i++;
          for (let k = 0; k < 4; k++) {
            if (!/[0-9a-fA-F]/.test(text[i] ?? "")) fail("in \\u hexadecimal character escape");
            i++;
          }
          continue;
        }
        if (!'"\\/bfnrt'.includes(e!)) fail("in string escape code");
      }
      i++;
    }
  };
  try {
    value();
    ws();
    if (i < n) fail("after top-level value");
    return undefined;
  } catch (e) {
    if (e instanceof SyntaxErr) return e.message;
    throw e;
  }
}

/** Go's name of a JSON value's kind in "cannot unmarshal X into …". */
export function goJsonKind(v: unknown): string {
  if (Array.isArray(v)) return "array";
  if (v === null) return "null";
  switch (typeof v) {
    case "string":
      return "string";
    case "number":
      return "number";
    case "boolean":
      return "bool";
    default:
      return "object";
  }
}
