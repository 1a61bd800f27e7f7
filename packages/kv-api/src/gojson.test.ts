import { describe, expect, it } from "vitest";
import { goJsonSyntaxError } from "./gojson.js";

// Expected texts observed from etcd 3.4.23's POST /v2/members (Go's scanner).
describe("goJsonSyntaxError", () => {
  it.each([
    ['{"peerURLs":["http://a:1"]}', undefined],
    ['{"peerURLs":["http://a:1"', "unexpected end of JSON input"],
    ['{"peerURLs":["http://a:1"]} x', "invalid character 'x' after top-level value"],
    ["nul", "invalid character ' ' in literal null (expecting 'l')"],
    ['{"a" 1}', "invalid character '1' after object key"],
    ['{"a":1 2}', "invalid character '2' after object key:value pair"],
    ["[1 2]", "invalid character '2' after array element"],
    ['"\\q"', "invalid character 'q' in string escape code"],
    ["-x", "invalid character 'x' in numeric literal"],
    ["1.e", "invalid character 'e' after decimal point in numeric literal"],
    ["{,", "invalid character ',' looking for beginning of object key string"],
    ["x", "invalid character 'x' looking for beginning of value"],
    ["", "unexpected end of JSON input"],
    ["-", "invalid character ' ' in numeric literal"],
  ])("%j → %s", (input, expected) => {
    expect(goJsonSyntaxError(input)).toBe(expected);
  });
});
