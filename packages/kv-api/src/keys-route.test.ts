import { describe, expect, it } from "vitest";
import { createKvApi } from "./app.js";
import { KeysWatch, WATCH_BUFFER } from "./keys.js";
import { createKeysRoute, type KeysCall } from "./keys-route.js";
import { LocalBackend } from "./local-backend.js";

function call(method: string, target: string, body = "", headers: Record<string, string> = {}) {
  const bytes = new TextEncoder().encode(body);
  const all: Record<string, string> = {
    ...(body === ""
      ? {}
      : {
          "content-type": "application/x-www-form-urlencoded",
          "content-length": String(bytes.length),
        }),
    ...headers,
  };
  const c: KeysCall = {
    method,
    target,
    header: (name) => all[name],
    bodyBytes: async () => bytes,
  };
  return c;
}

describe("the keys route", () => {
  it("answers plain key requests exactly as the app does", async () => {
    const clock = () => 1_700_000_000_000_000;
    const a = new LocalBackend({ clock });
    const b = new LocalBackend({ clock });
    try {
      const route = createKeysRoute(a, { clock });
      const app = createKvApi(b, { clock });
      const requests: [string, string, string][] = [
        ["PUT", "/v2/keys/dir/a?ttl=100", "value=1"],
        ["PUT", "/v2/keys/dir/b", "value=%3Cx%3E&prevExist=false"],
        ["GET", "/v2/keys/dir?recursive=true&sorted=true", ""],
        ["GET", "/v2/keys/nope", ""],
        ["POST", "/v2/keys/queue", "value=q"],
        ["PUT", "/v2/keys/dir/a?prevValue=2", "value=3"],
        ["DELETE", "/v2/keys/dir/b?prevIndex=x", ""],
        ["DELETE", "/v2/keys/dir/b", ""],
        ["GET", "/v2/keys", ""],
        ["GET", "/v2/keys/", ""],
      ];
      for (const [method, target, body] of requests) {
        const answer = await route(call(method, target, body));
        expect(answer, `${method} ${target}`).toBeDefined();
        const res = await app.request(target, {
          method,
          ...(body === ""
            ? {}
            : {
                body,
                headers: { "Content-Type": "application/x-www-form-urlencoded" },
              }),
        });
        expect(answer!.status, `${method} ${target}`).toBe(res.status);
        expect(answer!.body, `${method} ${target}`).toBe(await res.text());
        const appHeaders: Record<string, string> = {};
        res.headers.forEach((v, k) => {
          appHeaders[k] = v;
        });
        const routeHeaders: Record<string, string> = {};
        for (const [k, v] of Object.entries(answer!.headers)) routeHeaders[k.toLowerCase()] = v;
        delete appHeaders["content-length"];
        expect(routeHeaders, `${method} ${target}`).toEqual(appHeaders);
      }
    } finally {
      a.close();
      b.close();
    }
  });

  it("declines what the app must answer: other methods and routes, redirects, bad escapes", () => {
    const backend = new LocalBackend();
    try {
      const route = createKeysRoute(backend);
      for (const [method, target] of [
        ["HEAD", "/v2/keys/a"],
        ["OPTIONS", "/v2/keys/a"],
        ["PATCH", "/v2/keys/a"],
        ["GET", "/v2/keysx"],
        ["GET", "/v2/members"],
        ["GET", "/v2/keys/a/../b"],
        ["GET", "/v2/keys//a"],
        ["GET", "/v2/keys/%zz"],
        ["GET", "/v2/keys%2Fa"],
      ] as const) {
        expect(route(call(method, target)), `${method} ${target}`).toBeUndefined();
      }
      expect(route(call("GET", "/v2/keys/.hidden"))).toBeDefined();
      expect(route(call("GET", "/v2/keys?recursive=true"))).toBeDefined();
    } finally {
      backend.close();
    }
  });

  it("echoes a listed origin only", async () => {
    const backend = new LocalBackend();
    try {
      const route = createKeysRoute(backend, { cors: ["http://ok"] });
      const listed = await route(call("GET", "/v2/keys/", "", { origin: "http://ok" }));
      expect(listed!.headers["Access-Control-Allow-Origin"]).toBe("http://ok");
      const other = await route(call("GET", "/v2/keys/", "", { origin: "http://other" }));
      expect(other!.headers["Access-Control-Allow-Origin"]).toBeUndefined();
    } finally {
      backend.close();
    }
  });
});

describe("KeysWatch", () => {
  const event = (i: number) => ({
    action: "set" as const,
    node: { key: `/k${i}`, value: "v", modifiedIndex: i, createdIndex: i },
    etcdIndex: i,
  });
  const text = (b: Uint8Array | undefined) => (b === undefined ? "" : new TextDecoder().decode(b));

  it("keeps what comes before the output is attached and ends a one-shot watch after its event", () => {
    const w = new KeysWatch(false);
    w.sink.event(event(7));
    w.sink.event(event(8)); // a backend sends one; a second is ignored
    const seen: string[] = [];
    let ended: string | undefined;
    w.attach({
      write: (b) => {
        seen.push(text(b));
        return true;
      },
      end: (last) => {
        ended = text(last);
      },
    });
    expect(seen).toEqual([]);
    expect(ended).toContain('"modifiedIndex":7');
    expect(w.signal.aborted).toBe(false); // delivered: the backend already forgot it
  });

  it("drops a stream watcher whose client does not keep up, and removes its registration", () => {
    const w = new KeysWatch(true);
    let room = WATCH_BUFFER;
    let writes = 0;
    let ends = 0;
    w.attach({
      write: () => {
        if (room === 0) return false;
        room--;
        writes++;
        return true;
      },
      end: () => {
        ends++;
      },
    });
    for (let i = 1; i <= WATCH_BUFFER + 5; i++) w.sink.event(event(i));
    expect(writes).toBe(WATCH_BUFFER);
    expect(ends).toBe(1);
    expect(w.signal.aborted).toBe(true);
  });

  it("cancel (the client left) removes the registration and writes nothing more", () => {
    const w = new KeysWatch(true);
    const seen: string[] = [];
    w.attach({
      write: (b) => {
        seen.push(text(b));
        return true;
      },
      end: () => {},
    });
    w.sink.event(event(1));
    w.cancel();
    w.sink.event(event(2));
    expect(seen).toHaveLength(1);
    expect(w.signal.aborted).toBe(true);
  });
});
