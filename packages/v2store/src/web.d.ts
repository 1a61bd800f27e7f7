// The store compiles with no ambient runtime types (`"types": []`) so that it
// cannot touch Node, Bun or Deno APIs by accident. The codec needs only these
// two Web-standard classes, present in every runtime Cairn supports.
declare class TextEncoder {
  encode(input?: string): Uint8Array;
  encodeInto(source: string, destination: Uint8Array): { read: number; written: number };
}
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean });
  decode(input?: Uint8Array): string;
}
