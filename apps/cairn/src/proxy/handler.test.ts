import { afterEach, describe, expect, test, vi } from "vitest";
import { silentLogger } from "../log/index.js";
import { Director } from "./director.js";
import { createProxyHandler } from "./handler.js";

const A = "http://127.0.0.1:1";
const B = "http://127.0.0.1:2";

/** A director over fixed URLs, in the given order (no shuffle). */
async function director(urls: string[], failureWaitMs = 5_000): Promise<Director> {
  const d = new Director({
    urls: async () => urls,
    failureWaitMs,
    refreshIntervalMs: 30_000,
    logger: silentLogger,
    random: () => 0.999,
  });
  await d.refresh();
  return d;
}

/** A fetch where each endpoint origin either refuses or answers with `body`. */
function fakeFetch(answers: Record<string, string | "refuse">, seen: string[] = []): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input));
    seen.push(`${init?.method ?? "GET"} ${url.href}`);
    const answer = answers[url.origin];
    if (answer === undefined || answer === "refuse") throw new TypeError("fetch failed");
    return new Response(answer, {
      status: 200,
      headers: {
        "Content-Type": "application/json",
        "X-Etcd-Index": "7",
        Connection: "keep-alive",
      },
    });
  }) as typeof fetch;
}

const options = { readonly: false, cors: ["*"], readTimeoutMs: 0, logger: silentLogger };

afterEach(() => {
  vi.useRealTimers();
});

describe("the v2 proxy handler", () => {
  test("forwards path, query, method and body to the first endpoint; status, headers, body come back", async () => {
    const seen: string[] = [];
    const handler = createProxyHandler({
      ...options,
      director: await director([A, B]),
      fetch: fakeFetch({ [A]: '{"action":"get"}' }, seen),
    });
    const res = await handler(
      new Request("http://proxy/v2/keys/a?quorum=true", { method: "PUT", body: "value=1" }),
    );
    expect(seen).toEqual([`PUT ${A}/v2/keys/a?quorum=true`]);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('{"action":"get"}');
    expect(res.headers.get("X-Etcd-Index")).toBe("7");
    // Hop-by-hop headers stay behind; CORS is the proxy's when the member sent none.
    expect(res.headers.get("Connection")).toBeNull();
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
  });

  test("fails over to the next endpoint and leaves the dead one out for the failure wait", async () => {
    vi.useFakeTimers();
    const d = await director([A, B], 1_000);
    const seen: string[] = [];
    const handler = createProxyHandler({
      ...options,
      director: d,
      fetch: fakeFetch({ [A]: "refuse", [B]: "{}" }, seen),
    });
    expect((await handler(new Request("http://proxy/v2/keys/a"))).status).toBe(200);
    expect(seen).toEqual([`GET ${A}/v2/keys/a`, `GET ${B}/v2/keys/a`]);
    expect(d.endpoints()).toEqual([B]);
    vi.advanceTimersByTime(1_000);
    expect(d.endpoints()).toEqual([A, B]);
  });

  test("etcd's answers when nothing answers: 502 after trying, 503 with no endpoint", async () => {
    const d = await director([A, B]);
    const handler = createProxyHandler({ ...options, director: d, fetch: fakeFetch({}) });
    const first = await handler(new Request("http://proxy/v2/keys/a"));
    expect(first.status).toBe(502);
    expect(first.headers.get("Content-Type")).toBe("application/json");
    expect(await first.text()).toBe(
      '{"message":"httpproxy: unable to get response from 2 endpoint(s)"}',
    );
    const second = await handler(new Request("http://proxy/v2/keys/a"));
    expect(second.status).toBe(503);
    expect(await second.text()).toBe('{"message":"httpproxy: zero endpoints currently available"}');
  });

  test("readonly: anything but GET is a bare 501, not forwarded", async () => {
    const seen: string[] = [];
    const handler = createProxyHandler({
      ...options,
      readonly: true,
      director: await director([A]),
      fetch: fakeFetch({ [A]: "{}" }, seen),
    });
    for (const method of ["PUT", "POST", "DELETE", "OPTIONS", "HEAD"]) {
      const res = await handler(new Request("http://proxy/v2/keys/a", { method }));
      expect(res.status, method).toBe(501);
      expect(await res.text()).toBe("");
      expect(res.headers.get("Access-Control-Allow-Origin")).toBeNull();
    }
    expect(seen).toEqual([]);
  });

  test("OPTIONS is answered by the CORS layer; /v2/config/local/proxy lists the endpoints", async () => {
    const seen: string[] = [];
    const handler = createProxyHandler({
      ...options,
      cors: ["http://ok.example:80"],
      director: await director([A, B]),
      fetch: fakeFetch({}, seen),
    });
    const pre = await handler(
      new Request("http://proxy/v2/keys/a", {
        method: "OPTIONS",
        headers: { Origin: "http://ok.example:80" },
      }),
    );
    expect(pre.status).toBe(200);
    expect(pre.headers.get("Access-Control-Allow-Origin")).toBe("http://ok.example:80");
    const config = await handler(new Request("http://proxy/v2/config/local/proxy"));
    expect(await config.text()).toBe(`{"endpoints":["${A}","${B}"]}\n`);
    expect(config.headers.get("Content-Type")).toBe("text/plain; charset=utf-8");
    const post = await handler(
      new Request("http://proxy/v2/config/local/proxy", { method: "POST" }),
    );
    expect(post.status).toBe(405);
    expect(post.headers.get("Allow")).toBe("GET");
    expect(seen).toEqual([]);
  });
});

describe("the director", () => {
  test("with the default interval, an empty list is asked again every second", async () => {
    vi.useFakeTimers();
    let calls = 0;
    const d = new Director({
      urls: async () => {
        calls++;
        return calls < 3 ? [] : [A];
      },
      failureWaitMs: 5_000,
      refreshIntervalMs: 30_000,
      logger: silentLogger,
    });
    await d.start();
    expect(d.endpoints()).toEqual([]);
    await vi.advanceTimersByTimeAsync(1_000);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(d.endpoints()).toEqual([A]);
    expect(calls).toBe(3);
    // Known endpoints: the next refresh waits the whole interval.
    await vi.advanceTimersByTimeAsync(29_000);
    expect(calls).toBe(3);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(calls).toBe(4);
    d.stop();
  });
});
