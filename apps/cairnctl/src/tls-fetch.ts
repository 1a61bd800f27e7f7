/**
 * A fetch for `--ca-file`, `--cert-file`, `--key-file`: Web `fetch` has no
 * portable way to present a client certificate or trust an extra CA, so this
 * adapter (runtime code, used only by `main.ts`) sends the request through
 * `node:https` (provided by Node, Bun and Deno) and hands back a Web `Response`.
 */

import { readFileSync } from "node:fs";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { isIP } from "node:net";
import { Readable } from "node:stream";
import type { FetchLike } from "@cairn/client";
import type { TlsFiles } from "./io.js";

function toHeaders(res: IncomingMessage): Headers {
  const headers = new Headers();
  for (const [k, v] of Object.entries(res.headers)) {
    if (Array.isArray(v)) for (const x of v) headers.append(k, x);
    else if (v !== undefined) headers.set(k, v);
  }
  return headers;
}

/** A {@link FetchLike} that verifies servers with `caFile` and presents `certFile`/`keyFile`. */
export function createTlsFetch(tls: TlsFiles): FetchLike {
  const ca = tls.caFile !== undefined ? readFileSync(tls.caFile) : undefined;
  const cert = tls.certFile !== undefined ? readFileSync(tls.certFile) : undefined;
  const key = tls.keyFile !== undefined ? readFileSync(tls.keyFile) : undefined;
  return (input, init) =>
    new Promise<Response>((resolve, reject) => {
      const url = new URL(input);
      const headers: Record<string, string> = {};
      new Headers(init.headers).forEach((v, k) => {
        headers[k] = v;
      });
      const body = typeof init.body === "string" ? init.body : undefined;
      if (body !== undefined) headers["content-length"] = String(Buffer.byteLength(body));
      const servername = tls.serverName ?? (isIP(url.hostname) === 0 ? url.hostname : undefined);
      const send = url.protocol === "https:" ? httpsRequest : httpRequest;
      const req = send(
        url,
        {
          method: init.method ?? "GET",
          headers,
          ...(ca !== undefined ? { ca } : {}),
          ...(cert !== undefined ? { cert } : {}),
          ...(key !== undefined ? { key } : {}),
          ...(servername !== undefined ? { servername } : {}),
          ...(init.signal ? { signal: init.signal } : {}),
        },
        (res) => {
          const status = res.statusCode ?? 0;
          // 204/304 responses must not carry a body in a Web Response.
          const nullBody = status === 204 || status === 304;
          if (nullBody) res.resume();
          resolve(
            new Response(nullBody ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>), {
              status,
              statusText: res.statusMessage ?? "",
              headers: toHeaders(res),
            }),
          );
        },
      );
      req.once("error", reject);
      if (body !== undefined) req.write(body);
      req.end();
    });
}
