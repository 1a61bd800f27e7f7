/**
 * Spec §9–10: /v2/members (list, leader, errors of POST/PUT/DELETE that change
 * nothing), /v2/machines, /v2/stats/{self,leader,store}, /version, /health.
 * Member ids, names, peer URLs, times and counters are masked; their format
 * is checked explicitly.
 */
import { type CaseContext, conformance, HEX_ID, lateTtl, RFC3339_NANO } from "./harness/case.js";

const JSON_HEADERS = { "content-type": "application/json", "x-etcd-cluster-id": HEX_ID };

/** Masks the variable parts of member JSON, checking their format. */
function maskMembers(c: CaseContext) {
  return (body: string) =>
    body
      .replace(/"id":"([^"]*)"/g, (all, id: string) => (HEX_ID.test(id) ? '"id":"<id>"' : all))
      .replace(/"name":"[^"]*"/g, '"name":"<name>"')
      .replace(/"peerURLs":\["http:\/\/127\.0\.0\.1:\d+"\]/g, '"peerURLs":["<peer>"]')
      .replaceAll(c.target.url, "<url>");
}

const MEMBER = '{"id":"<id>","name":"<name>","peerURLs":["<peer>"],"clientURLs":["<url>"]}';

async function memberInfo(c: CaseContext): Promise<{ id: string; peer: string }> {
  const res = await c.get("/v2/members", { unrecorded: true });
  const parsed = JSON.parse(res.text) as { members: { id: string; peerURLs: string[] }[] };
  return { id: parsed.members[0]!.id, peer: parsed.members[0]!.peerURLs[0]! };
}

conformance("§9–10 members, machines, stats, version, health", "cl", (kase) => {
  kase("GET /v2/members: one member, this server's client URL", async (c) => {
    c.check(await c.get("/v2/members", { mask: maskMembers(c) }), {
      status: 200,
      body: `{"members":[${MEMBER}]}\n`,
      headers: JSON_HEADERS,
    });
  });

  kase("GET /v2/members/leader: the member itself", async (c) => {
    c.check(await c.get("/v2/members/leader", { mask: maskMembers(c) }), {
      status: 200,
      body: `${MEMBER}\n`,
      headers: JSON_HEADERS,
    });
    const { id } = await memberInfo(c);
    const leader = await c.get("/v2/members/leader", { unrecorded: true });
    c.eq((JSON.parse(leader.text) as { id: string }).id, id, "leader id = member id");
  });

  kase("GET /v2/members/<other> → 404 Not found", async (c) => {
    for (const path of ["/v2/members/foo", "/v2/members/1234", "/v2/members/leader/x"]) {
      c.check(await c.get(path), {
        status: 404,
        body: '{"message":"Not found"}',
        headers: JSON_HEADERS,
      });
    }
  });

  kase("POST /v2/members: Content-Type must be application/json → 415", async (c) => {
    for (const ct of ["text/plain", "application/x-www-form-urlencoded", "application/jsonx"]) {
      c.check(
        await c.post("/v2/members", '{"peerURLs":["http://127.0.0.1:1"]}', { contentType: ct }),
        {
          status: 415,
          body: `{"message":"Bad Content-Type ${ct}, accept application/json"}`,
          headers: JSON_HEADERS,
        },
      );
    }
    c.check(
      await c.post("/v2/members", undefined, { body: '{"peerURLs":["http://127.0.0.1:1"]}' }),
      {
        status: 415,
        body: '{"message":"Bad Content-Type , accept application/json"}',
        headers: JSON_HEADERS,
      },
    );
  });

  kase("POST /v2/members: bad bodies → 400 with the reason", async (c) => {
    const cases: [string, string][] = [
      ["x", "invalid character 'x' looking for beginning of value"],
      ['{"peerURLs":[]}', "no valid URLs given"],
      ["{}", "no valid URLs given"],
      [
        '{"peerURLs":["ftp://127.0.0.1:1"]}',
        "URL scheme must be http, https, unix, or unixs: ftp://127.0.0.1:1",
      ],
      [
        '{"peerURLs":["http://127.0.0.1"]}',
        'URL address does not have the form \\"host:port\\": http://127.0.0.1',
      ],
      [
        '{"peerURLs":["http://127.0.0.1:1/p"]}',
        "URL must not contain a path: http://127.0.0.1:1/p",
      ],
    ];
    for (const [body, message] of cases) {
      c.check(
        await c.post("/v2/members", body, { contentType: "application/json; charset=utf-8" }),
        {
          status: 400,
          body: `{"message":"${message}"}`,
          headers: JSON_HEADERS,
        },
      );
    }
  });

  kase("POST /v2/members with an existing peer URL → 409", async (c) => {
    const { peer } = await memberInfo(c);
    c.check(
      await c.post("/v2/members", JSON.stringify({ peerURLs: [peer] }), {
        contentType: "application/json",
      }),
      { status: 409, body: '{"message":"membership: peerURL exists"}', headers: JSON_HEADERS },
    );
  });

  kase("PUT/DELETE /v2/members/<unknown id> → 404 No such member", async (c) => {
    c.check(
      await c.put("/v2/members/1234", '{"peerURLs":["http://127.0.0.1:1"]}', {
        contentType: "application/json",
      }),
      { status: 404, body: '{"message":"No such member: 1234"}', headers: JSON_HEADERS },
    );
    for (const id of ["1234", "zz"]) {
      c.check(await c.del(`/v2/members/${id}`), {
        status: 404,
        body: `{"message":"No such member: ${id}"}`,
        headers: JSON_HEADERS,
      });
    }
    const { id } = await memberInfo(c);
    c.check(
      await c.put(`/v2/members/${id}`, '{"peerURLs":["http://127.0.0.1:1"]}', {
        contentType: "text/plain",
        label: "PUT /v2/members/<own id>",
      }),
      {
        status: 415,
        body: '{"message":"Bad Content-Type text/plain, accept application/json"}',
        headers: JSON_HEADERS,
      },
    );
  });

  kase("GET /v2/machines: the client URL, text, no newline", async (c) => {
    c.check(await c.get("/v2/machines"), {
      status: 200,
      body: c.target.url,
      headers: { "content-type": "text/plain; charset=utf-8", "x-etcd-cluster-id": null },
    });
  });

  kase("GET /v2/stats/self: field order and formats", async (c) => {
    const { id } = await memberInfo(c);
    const res = await c.get("/v2/stats/self", {
      mask: (b) =>
        b
          .replace(/"(name|id|leader|uptime)":"[^"]*"/g, '"$1":"<$1>"')
          .replace(/"(\w+Cnt)":\d+/g, '"$1":<n>'),
    });
    c.check(res, {
      status: 200,
      body:
        '{"name":"<name>","id":"<id>","state":"StateLeader","startTime":"<ts>",' +
        '"leaderInfo":{"leader":"<leader>","uptime":"<uptime>","startTime":"<ts>"},' +
        '"recvAppendRequestCnt":<n>,"sendAppendRequestCnt":<n>}',
      headers: { "content-type": "application/json", "x-etcd-cluster-id": null },
    });
    const raw = JSON.parse(
      (await c.get("/v2/stats/self", { unrecorded: true, mask: (b) => b })).body.toString(),
    ) as {
      id: string;
      startTime: string;
      leaderInfo: { leader: string; uptime: string; startTime: string };
    };
    c.eq(raw.id, id, "stats id = member id");
    c.eq(raw.leaderInfo.leader, id, "leader = self");
    c.eq(RFC3339_NANO.test(raw.startTime), true, `startTime ${raw.startTime} RFC 3339 nano`);
    c.eq(
      /^(\d+h)?(\d+m)?\d+(\.\d+)?(s|ms|µs|ns)$/.test(raw.leaderInfo.uptime),
      true,
      `uptime ${raw.leaderInfo.uptime} Go duration`,
    );
  });

  kase("GET /v2/stats/leader: a single member has no followers", async (c) => {
    const { id } = await memberInfo(c);
    c.check(await c.get("/v2/stats/leader", { mask: (b) => b.replace(id, "<id>") }), {
      status: 200,
      body: '{"leader":"<id>","followers":{}}',
      headers: { "content-type": "application/json", "x-etcd-cluster-id": null },
    });
  });

  kase("GET /v2/stats/store: counters in etcd's order", async (c) => {
    const names = [
      "getsSuccess",
      "getsFail",
      "setsSuccess",
      "setsFail",
      "deleteSuccess",
      "deleteFail",
      "updateSuccess",
      "updateFail",
      "createSuccess",
      "createFail",
      "compareAndSwapSuccess",
      "compareAndSwapFail",
      "compareAndDeleteSuccess",
      "compareAndDeleteFail",
      "expireCount",
      "watchers",
    ];
    const res = await c.get("/v2/stats/store", { mask: (b) => b.replace(/":\d+/g, '":<n>') });
    c.check(res, {
      status: 200,
      body: `{${names.map((n) => `"${n}":<n>`).join(",")}}`,
      headers: { "content-type": "application/json", "x-etcd-cluster-id": null },
    });
  });

  kase("stats/store counts a successful set and a failed create", async (c) => {
    const read = async () =>
      JSON.parse((await c.get("/v2/stats/store", { unrecorded: true })).text) as Record<
        string,
        number
      >;
    const before = await read();
    await c.put(c.keys("/a"), "value=1");
    await c.put(c.keys("/a?prevExist=false"), "value=1");
    const after = await read();
    c.eq(after.setsSuccess! - before.setsSuccess!, 1, "setsSuccess delta");
    c.eq(after.createFail! - before.createFail!, 1, "createFail delta");
  });

  kase("stats/store counts each kind of success and failure", async (c) => {
    const read = async () =>
      JSON.parse((await c.get("/v2/stats/store", { unrecorded: true })).text) as Record<
        string,
        number
      >;
    const deltas = (from: Record<string, number>, to: Record<string, number>) =>
      Object.fromEntries(Object.keys(to).map((k) => [k, to[k]! - from[k]!]));
    const before = await read();
    await c.put(c.keys("/a"), "value=1"); // setsSuccess
    await c.put(c.keys("/a/b"), "value=1"); // setsFail (104)
    await c.put(c.keys("/a?prevExist=true"), "value=2"); // updateSuccess
    await c.put(c.keys("/zz?prevExist=true"), "value=2"); // updateFail
    await c.put(c.keys("/c?prevExist=false"), "value=1"); // createSuccess
    await c.post(c.keys("/a"), "value=1"); // createFail and setsFail (104)
    await c.put(c.keys("/a?prevValue=2"), "value=3"); // compareAndSwapSuccess
    await c.put(c.keys("/a?prevValue=9"), "value=3"); // compareAndSwapFail
    await c.del(c.keys("/c?prevValue=1")); // compareAndDeleteSuccess
    await c.del(c.keys("/a?prevIndex=1")); // compareAndDeleteFail (counted as a success!)
    await c.del(c.keys("/a")); // deleteSuccess
    await c.del(c.keys("/a")); // deleteFail
    const mid = await read();
    // Every delta, gets included (spec §10: etcd counts its internal reads
    // too), goes into the transcript for the differential comparison.
    const all = deltas(before, mid);
    c.note("stats/store deltas", JSON.stringify(all));
    const { getsSuccess: _gs, getsFail: _gf, ...writes } = all;
    c.eq(
      writes,
      // etcd 3.4.23 quirks, kept: a failed POST counts as setsFail and
      // createFail, and a failed compareAndDelete counts as a success.
      {
        setsSuccess: 1,
        setsFail: 2,
        deleteSuccess: 1,
        deleteFail: 1,
        updateSuccess: 1,
        updateFail: 1,
        createSuccess: 1,
        createFail: 1,
        compareAndSwapSuccess: 1,
        compareAndSwapFail: 1,
        compareAndDeleteSuccess: 2,
        compareAndDeleteFail: 0,
        expireCount: 0,
        watchers: 0,
      },
      "counter deltas",
    );
    await c.put(c.keys("/t"), "value=1&ttl=2", { mask: lateTtl(2) });
    await c.waitGone("/t", 10_000);
    const after = await read();
    c.eq(after.expireCount! - mid.expireCount!, 1, "expireCount delta");
  });

  kase("GET /version and /health", async (c) => {
    c.check(await c.get("/version"), {
      status: 200,
      body: '{"etcdserver":"3.4.23","etcdcluster":"3.4.0"}',
      headers: { "content-type": "application/json" },
    });
    // A quorum read given one second: a starved host can miss it (503), so
    // it is asked again, unrecorded, before the answer that is compared.
    for (let i = 0; i < 5 && (await c.get("/health", { unrecorded: true })).status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 1_000));
    }
    c.check(await c.get("/health"), {
      status: 200,
      body: '{"health":"true"}',
      headers: { "content-type": "text/plain; charset=utf-8" },
    });
  });
});
