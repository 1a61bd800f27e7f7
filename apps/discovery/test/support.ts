import { freePort, type TempDir, tempDir } from "@cairn/testkit";
import { expect } from "vitest";
import { parseConfig, type RunningDiscovery, startDiscovery } from "../src/node.js";

/** A service started by a test on a free 127.0.0.1 port with a temp data dir. */
export interface TestService {
  readonly service: RunningDiscovery;
  readonly dir: TempDir;
  /** Restarts the service on the same port and data dir. */
  restart(): Promise<RunningDiscovery>;
  stop(): Promise<void>;
}

/** Starts the real service (embedded store, HTTP listener) with extra flags. */
export async function startTestService(
  flags: readonly string[] = [],
  now?: () => number,
): Promise<TestService> {
  const dir = tempDir("cairn-discovery-");
  const port = await freePort();
  const config = parseConfig(
    ["--addr", `127.0.0.1:${port}`, "--data-dir", dir.path, "--rate-limit", "0", ...flags],
    {},
  );
  const opts = now === undefined ? {} : { now };
  let service = await startDiscovery(config, opts);
  const handle: TestService = {
    get service() {
      return service;
    },
    dir,
    async restart() {
      await service.close();
      service = await startDiscovery(config, opts);
      return service;
    },
    async stop() {
      await service.close();
      dir.remove();
    },
  };
  return handle;
}

/** `GET /new[?size=N]` → the token URL. */
export async function newToken(base: string, size?: number): Promise<string> {
  const res = await fetch(`${base}/new${size === undefined ? "" : `?size=${size}`}`);
  if (res.status !== 200) throw new Error(`/new answered ${res.status}: ${await res.text()}`);
  return res.text();
}

/** A v2 event or error body with the response's status and X-Etcd-Index. */
export interface V2Reply {
  status: number;
  index: number | undefined;
  // biome-ignore lint/suspicious/noExplicitAny: v2 bodies are asserted field by field
  body: any;
}

/** Sends a request and parses the v2 JSON reply. */
export async function v2(url: string, init?: RequestInit): Promise<V2Reply> {
  const res = await fetch(url, init);
  const text = await res.text();
  const index = res.headers.get("X-Etcd-Index");
  return {
    status: res.status,
    index: index === null ? undefined : Number(index),
    body: text === "" ? undefined : JSON.parse(text),
  };
}

/** `PUT <url>?prevExist=false` with a form `value`, exactly as an etcd member registers. */
export function register(url: string, value: string): Promise<V2Reply> {
  return v2(`${url}?prevExist=false`, {
    method: "PUT",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ value }).toString(),
  });
}

/** The query etcd members add to every GET (bootstrap.md §3.3). */
export const Q = "quorum=false&recursive=false&sorted=false";

/**
 * One etcd 3.4.23 member's discovery client, request for request as
 * bootstrap.md §3.3 records it. Returns the initial cluster it would boot
 * with, and the keys its list watch delivered, in order.
 */
export async function bootstrapLikeEtcd(
  tokenUrl: string,
  id: string,
  value: string,
  /** Called when the member starts watching (step 6); the test orders the next member after it. */
  onWatching: () => void = () => {},
): Promise<{ cluster: string; seen: string[] }> {
  // 1. the size
  const size = Number((await v2(`${tokenUrl}/_config/size?${Q}`)).body.node.value);
  // 2. the registrations (the full check)
  const before = await v2(`${tokenUrl}?${Q}`);
  expect((before.body.node.nodes ?? []).length).toBeLessThan(size);
  // 3. create-only registration
  const put = await register(`${tokenUrl}/${id}`, value);
  expect(put.status).toBe(201);
  // 4. the registration is visible: a watch from its own index returns at once
  const confirm = await v2(
    `${tokenUrl}/${id}?recursive=false&wait=true&waitIndex=${put.body.node.createdIndex}`,
  );
  expect(confirm.body.node.value).toBe(value);
  // 5. size and list again; X-Etcd-Index of the list is where watching starts
  await v2(`${tokenUrl}/_config/size?${Q}`);
  const list = await v2(`${tokenUrl}?${Q}`);
  const nodes: { key: string; value: string; createdIndex: number }[] = list.body.node.nodes ?? [];
  const seen: string[] = [];
  let waitIndex = list.index! + 1;
  onWatching();
  // 6. watch the token directory until `size` registrations are known
  while (nodes.length < size) {
    const ev = await v2(`${tokenUrl}?recursive=true&wait=true&waitIndex=${waitIndex}`);
    nodes.push(ev.body.node);
    seen.push(ev.body.node.key);
    waitIndex = ev.body.node.modifiedIndex + 1;
  }
  // 7. the first `size` registrations by createdIndex form the initial cluster
  nodes.sort((a, b) => a.createdIndex - b.createdIndex);
  return {
    cluster: nodes
      .slice(0, size)
      .map((n) => n.value)
      .join(","),
    seen,
  };
}

/** A promise with its resolve function (Promise.withResolvers is newer than Node 20). */
export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
