import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  bootstrapLikeEtcd,
  deferred,
  newToken,
  Q,
  register,
  startTestService,
  type TestService,
  v2,
} from "./support.js";

describe("discovery service over HTTP", () => {
  let t: TestService;
  let base: string;
  beforeAll(async () => {
    t = await startTestService(["--host", "https://discovery.example.com/"]);
    base = t.service.url;
  });
  afterAll(() => t?.stop());

  it("hands out token URLs on the public host, 32 lowercase hex characters, as text/plain", async () => {
    const res = await fetch(`${base}/new`);
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toMatch(/^text\/plain/);
    const body = await res.text();
    expect(body).toMatch(/^https:\/\/discovery\.example\.com\/[0-9a-f]{32}$/);
    const other = await newToken(base);
    expect(other).not.toBe(body);
  });

  it("stores the size: 3 by default, N when asked", async () => {
    const dflt = (await newToken(base)).split("/").pop()!;
    const five = (await newToken(base, 5)).split("/").pop()!;
    const a = await v2(`${base}/${dflt}/_config/size?${Q}`);
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({
      action: "get",
      node: { key: `/${dflt}/_config/size`, value: "3" },
    });
    expect(a.index).toBeGreaterThan(0);
    expect((await v2(`${base}/${five}/_config/size`)).body.node.value).toBe("5");
    // the fresh token directory lists nothing: `_config` is hidden
    const dir = await v2(`${base}/${five}`);
    expect(dir.body.node).toMatchObject({ key: `/${five}`, dir: true });
    expect(dir.body.node.nodes).toBeUndefined();
  });

  it.each([["abc"], ["0"], ["-1"], ["1.5"], ["1001"], ["99999999999999999999"], [""]])(
    "refuses size=%j with a 400 naming the size",
    async (size) => {
      const res = await fetch(`${base}/new?size=${encodeURIComponent(size)}`);
      expect(res.status).toBe(400);
      expect(await res.text()).toContain(
        `invalid size "${size}": the cluster size must be a whole number from 1 to 1000`,
      );
    },
  );

  it("serves etcd's request sequence (§3.3): three members register, watches return in order, all see the full cluster", async () => {
    const url = (await newToken(base, 3)).replace("https://discovery.example.com", base);
    const members = ["m1", "m2", "m3"].map((name, i) => ({
      id: `${(0x1000 + i).toString(16)}abcdef`,
      value: `${name}=http://127.0.0.1:${23920 + i}`,
    }));
    // Each member starts only once the previous one watches, so the order of
    // the events every watch returns is fixed (as in the recorded run, §3.3).
    const watching = members.map(() => deferred());
    const run = (i: number) =>
      bootstrapLikeEtcd(url, members[i]!.id, members[i]!.value, () => watching[i]!.resolve());
    const m1 = run(0);
    await watching[0]!.promise;
    const m2 = run(1);
    await watching[1]!.promise;
    const m3 = run(2);
    const [r1, r2, r3] = await Promise.all([m1, m2, m3]);
    const path = new URL(url).pathname;
    const cluster = members.map((m) => m.value).join(",");
    expect(r1).toEqual({
      cluster,
      seen: [`${path}/${members[1]!.id}`, `${path}/${members[2]!.id}`],
    });
    expect(r2).toEqual({ cluster, seen: [`${path}/${members[2]!.id}`] });
    expect(r3).toEqual({ cluster, seen: [] });
    // a fourth member finds the cluster full without registering
    const list = await v2(`${url}?${Q}`);
    expect(list.body.node.nodes.map((n: { value: string }) => n.value)).toEqual(
      members.map((m) => m.value),
    );
  });

  it("registrations are create-only: a second PUT of an id is 412 / 105 and changes nothing", async () => {
    const url = (await newToken(base)).replace("https://discovery.example.com", base);
    const first = await register(`${url}/abc`, "m1=http://127.0.0.1:1");
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      action: "create",
      node: { value: "m1=http://127.0.0.1:1" },
    });
    const again = await register(`${url}/abc`, "m9=http://127.0.0.1:9");
    expect(again.status).toBe(412);
    expect(again.body).toEqual({
      errorCode: 105,
      message: "Key already exists",
      cause: `${new URL(url).pathname}/abc`,
      index: again.index,
    });
    expect((await v2(`${url}/abc`)).body.node.value).toBe("m1=http://127.0.0.1:1");
    // and a plain PUT without prevExist is create-only too
    const plain = await v2(`${url}/abc`, {
      method: "PUT",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "value=x",
    });
    expect(plain.status).toBe(412);
  });

  it("deletes a registration", async () => {
    const url = (await newToken(base)).replace("https://discovery.example.com", base);
    await register(`${url}/abc`, "m1=http://127.0.0.1:1");
    const del = await v2(`${url}/abc`, { method: "DELETE" });
    expect(del.status).toBe(200);
    expect(del.body).toMatchObject({
      action: "delete",
      prevNode: { value: "m1=http://127.0.0.1:1" },
    });
    expect((await v2(`${url}/abc`)).status).toBe(404);
  });

  it("an unknown token is a v2 404 (error 100) for reads, watches and writes", async () => {
    const token = "0123456789abcdef0123456789abcdef";
    const get = await v2(`${base}/${token}?${Q}`);
    expect(get.status).toBe(404);
    expect(get.body).toEqual({
      errorCode: 100,
      message: "Key not found",
      cause: `/${token}`,
      index: get.index,
    });
    const size = await v2(`${base}/${token}/_config/size?${Q}`);
    expect(size.status).toBe(404);
    expect(size.body.errorCode).toBe(100);
    const put = await register(`${base}/${token}/abc`, "m1=http://127.0.0.1:1");
    expect(put.status).toBe(404);
    expect(put.body).toMatchObject({ errorCode: 100, cause: `/${token}` });
    // the failed PUT did not create the directory
    expect((await v2(`${base}/${token}`)).status).toBe(404);
    // not a token at all
    expect((await fetch(`${base}/not-a-token`)).status).toBe(404);
  });

  it("refuses writes outside <token>/<name> and requests it does not support", async () => {
    const url = (await newToken(base)).replace("https://discovery.example.com", base);
    for (const target of [url, `${url}/_config/size`, `${url}/a/b`]) {
      const r = await register(target, "x");
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ errorCode: 107 });
    }
    // an encoded `..` cannot reach another token
    const other = (await newToken(base)).split("/").pop()!;
    const climbed = await fetch(`${url}/a%2F..%2F..%2F${other}%2Fzz?prevExist=false`, {
      method: "PUT",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "value=x",
    });
    expect(climbed.status).toBe(404);
    expect((await v2(`${base}/${other}/zz`)).status).toBe(404);
    expect((await v2(`${url}/_config/size`)).body.node.value).toBe("3");
    const noValue = await v2(`${url}/abc?prevExist=false`, { method: "PUT" });
    expect(noValue.status).toBe(400);
    expect(noValue.body).toMatchObject({
      errorCode: 200,
      message: "Value is Required in POST form",
    });
    const ttl = await register(`${url}/abc?ttl=5&x=`, "m1=http://127.0.0.1:1");
    expect(ttl.status).toBe(400);
    expect(ttl.body.errorCode).toBe(209);
    const badIndex = await v2(`${url}?wait=true&waitIndex=abc`);
    expect(badIndex.status).toBe(400);
    expect(badIndex.body.errorCode).toBe(203);
    expect((await v2(url)).body.node.nodes).toBeUndefined();
  });

  it("a watch waits for the next registration (long poll) and reports X-Etcd-Index at once", async () => {
    const url = (await newToken(base)).replace("https://discovery.example.com", base);
    const list = await v2(url);
    const res = await fetch(`${url}?recursive=true&wait=true&waitIndex=${list.index! + 1}`);
    // headers arrive before any event
    expect(res.status).toBe(200);
    expect(Number(res.headers.get("X-Etcd-Index"))).toBeGreaterThanOrEqual(list.index!);
    const body = res.text();
    await register(`${url}/abc`, "m1=http://127.0.0.1:1");
    const event = JSON.parse(await body);
    expect(event).toMatchObject({
      action: "create",
      node: { key: `${new URL(url).pathname}/abc` },
    });
  });

  it("answers /health", async () => {
    const res = await fetch(`${base}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ health: "true" });
  });
});

describe("durability", () => {
  it("a restart mid-bootstrap keeps the token and its registrations, in order", async () => {
    const t = await startTestService();
    try {
      const url = await newToken(t.service.url, 3);
      expect((await register(`${url}/a1`, "m1=http://127.0.0.1:1")).status).toBe(201);
      // m1 is waiting from `waiting` when m2 registers, then the service restarts
      const waiting = (await v2(url)).index! + 1;
      expect((await register(`${url}/a2`, "m2=http://127.0.0.1:2")).status).toBe(201);
      const before = await v2(url);
      await t.restart();
      // etcd's member re-watches from the same index after a connection error
      // (discovery.go waitNodes): the event it missed is still there
      const missed = await v2(`${url}?recursive=true&wait=true&waitIndex=${waiting}`);
      expect(missed.status).toBe(200);
      expect(missed.body.node.value).toBe("m2=http://127.0.0.1:2");
      const after = await v2(url);
      expect(after.status).toBe(200);
      expect(after.body).toEqual(before.body);
      expect((await v2(`${url}/_config/size`)).body.node.value).toBe("3");
      // bootstrap carries on: the third registration, a watch from the old index
      const watch = v2(`${url}?recursive=true&wait=true&waitIndex=${before.index! + 1}`);
      expect((await register(`${url}/a3`, "m3=http://127.0.0.1:3")).status).toBe(201);
      expect((await watch).body.node.value).toBe("m3=http://127.0.0.1:3");
      // a registration made before the restart is still create-only
      expect((await register(`${url}/a1`, "x")).status).toBe(412);
      const values = (await v2(url)).body.node.nodes.map((n: { value: string }) => n.value);
      expect(values).toEqual([
        "m1=http://127.0.0.1:1",
        "m2=http://127.0.0.1:2",
        "m3=http://127.0.0.1:3",
      ]);
    } finally {
      await t.stop();
    }
  });
});

describe("token GC", () => {
  it("deletes tokens older than --token-ttl, keeps younger ones", async () => {
    const day = 24 * 60 * 60 * 1000;
    let clock = Date.UTC(2026, 0, 1);
    const t = await startTestService(["--token-ttl", "7d"], () => clock);
    try {
      const old = await newToken(t.service.url);
      await register(`${old}/abc`, "m1=http://127.0.0.1:1");
      clock += 5 * day;
      const young = await newToken(t.service.url);
      clock += 2 * day - 1;
      expect(await t.service.sweep()).toEqual([]);
      clock += 1; // `old` is now exactly 7 days old
      expect(await t.service.sweep()).toEqual([old.split("/").pop()]);
      const gone = await v2(old);
      expect(gone.status).toBe(404);
      expect(gone.body.errorCode).toBe(100);
      expect((await register(`${old}/abc`, "x")).status).toBe(404);
      expect((await v2(`${young}/_config/size`)).body.node.value).toBe("3");
      clock += 5 * day;
      expect(await t.service.sweep()).toEqual([young.split("/").pop()]);
      expect((await v2(young)).status).toBe(404);
    } finally {
      await t.stop();
    }
  });
});

describe("rate limiting", () => {
  it("answers 429 with Retry-After once a client address spends its burst; /health is exempt", async () => {
    const clock = Date.UTC(2026, 0, 1);
    const t = await startTestService(["--rate-limit", "1", "--rate-limit-burst", "3"], () => clock);
    try {
      const url = await newToken(t.service.url); // 1
      expect((await v2(url)).status).toBe(200); // 2
      expect((await v2(`${url}/_config/size`)).status).toBe(200); // 3
      const limited = await fetch(url);
      expect(limited.status).toBe(429);
      expect(limited.headers.get("Retry-After")).toBe("1");
      expect(await limited.text()).toContain("too many requests from 127.0.0.1");
      expect((await fetch(`${t.service.url}/new`)).status).toBe(429);
      expect((await fetch(`${t.service.url}/health`)).status).toBe(200);
    } finally {
      await t.stop();
    }
  });
});
