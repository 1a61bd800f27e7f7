/**
 * The recipes of the README, as code that `test/recipes.test.ts` runs
 * against a real server. Each uses only the public API of `@cairn/client`.
 */

import { type Client, EtcdError, EventIndexClearedError, type KeysResponse } from "../src/index.js";

const isCode = (e: unknown, code: number) => e instanceof EtcdError && e.errorCode === code;

/**
 * Service registration: the key lives while the process heartbeats. If the
 * process dies, the TTL runs out and the key disappears (a watcher sees `expire`).
 */
export async function registerService(
  client: Client,
  key: string,
  address: string,
  ttlSeconds: number,
  signal: AbortSignal,
): Promise<void> {
  await client.set(key, address, { ttl: ttlSeconds });
  const beat = setInterval(
    () =>
      void client
        .refresh(key, ttlSeconds)
        .catch(() => client.set(key, address, { ttl: ttlSeconds })),
    (ttlSeconds * 1000) / 3,
  );
  signal.addEventListener(
    "abort",
    () => {
      clearInterval(beat);
      void client.delete(key, { prevValue: address }).catch(() => {});
    },
    { once: true },
  );
}

/**
 * A lock: `create` (prevExist=false) succeeds for exactly one contender; the
 * TTL frees the lock if its holder dies. Losers wait for the key's delete or
 * expire and try again. Release deletes only our own lock (compare-and-delete).
 */
export async function acquireLock(
  client: Client,
  key: string,
  owner: string,
  ttlSeconds: number,
  signal?: AbortSignal,
): Promise<{ release(): Promise<void> }> {
  for (;;) {
    try {
      await client.create(key, owner, { ttl: ttlSeconds });
      return {
        release: async () => {
          await client.delete(key, { prevValue: owner });
        },
      };
    } catch (error) {
      if (!isCode(error, 105)) throw error;
      // Held by someone else: wait for it to go (from the index of the failed create on).
      const w = client.watch(key, {
        afterIndex: (error as EtcdError).index,
        ...(signal ? { signal } : {}),
      });
      try {
        for await (const ev of w)
          if (ev.action === "delete" || ev.action === "expire" || ev.action === "compareAndDelete")
            break;
      } finally {
        w.close();
      }
    }
  }
}

/**
 * Leader election: whoever creates the key leads and keeps it alive by
 * refreshing; everyone can read (or watch) who leads. Returns a handle to
 * resign; `lost` resolves if leadership was lost (refresh failed).
 */
export async function campaign(
  client: Client,
  key: string,
  candidate: string,
  ttlSeconds: number,
  signal?: AbortSignal,
): Promise<{ resign(): Promise<void>; lost: Promise<void> }> {
  const lock = await acquireLock(client, key, candidate, ttlSeconds, signal);
  let onLost: () => void = () => {};
  const lost = new Promise<void>((r) => {
    onLost = r;
  });
  const beat = setInterval(
    () => {
      // refresh only while the key is still ours
      client.set(key, candidate, { ttl: ttlSeconds, prevValue: candidate }).catch(() => {
        clearInterval(beat);
        onLost();
      });
    },
    (ttlSeconds * 1000) / 3,
  );
  return {
    lost,
    resign: async () => {
      clearInterval(beat);
      await lock.release();
    },
  };
}

/** Who leads now (the value of the election key), or undefined. */
export async function currentLeader(client: Client, key: string): Promise<string | undefined> {
  try {
    return (await client.get(key)).node.value;
  } catch (error) {
    if (isCode(error, 100)) return undefined;
    throw error;
  }
}

/** In-order queue: producers POST; keys are created in increasing index order. */
export async function enqueue(client: Client, queue: string, item: string): Promise<string> {
  return (await client.createInOrder(queue, item)).node.key;
}

/**
 * Takes the oldest item. Several consumers may race for it: the
 * compare-and-delete on its modifiedIndex lets exactly one win; the others
 * try the next item. Waits for an item when the queue is empty.
 */
export async function dequeue(
  client: Client,
  queue: string,
  signal?: AbortSignal,
): Promise<string> {
  for (;;) {
    let listing: KeysResponse | undefined;
    try {
      listing = await client.get(queue, { sorted: true });
    } catch (error) {
      if (!isCode(error, 100)) throw error;
    }
    for (const item of listing?.node.nodes ?? []) {
      try {
        await client.delete(item.key, { prevIndex: item.modifiedIndex });
        return item.value ?? "";
      } catch (error) {
        if (!isCode(error, 100) && !isCode(error, 101)) throw error; // taken by another consumer
      }
    }
    const w = client.watch(queue, {
      recursive: true,
      afterIndex: listing?.index ?? 0,
      ...(signal ? { signal } : {}),
    });
    try {
      for await (const ev of w) if (ev.action === "create") break;
    } finally {
      w.close();
    }
  }
}

/**
 * Config watch: read the whole directory, hand it over, then apply every
 * change. When the watch falls behind the server's history (401), read
 * again and go on from there: the documented recovery.
 */
export async function watchConfig(
  client: Client,
  dir: string,
  onConfig: (config: ReadonlyMap<string, string>) => void,
  signal: AbortSignal,
): Promise<void> {
  const config = new Map<string, string>();
  while (!signal.aborted) {
    const snapshot = await client.get(dir, { recursive: true });
    config.clear();
    const walk = (n: KeysResponse["node"]) => {
      if (!n.dir) config.set(n.key, n.value ?? "");
      for (const c of n.nodes ?? []) walk(c);
    };
    walk(snapshot.node);
    onConfig(config);
    try {
      for await (const ev of client.watch(dir, {
        recursive: true,
        afterIndex: snapshot.index,
        signal,
      })) {
        if (ev.node.dir) continue;
        if (ev.action === "delete" || ev.action === "expire" || ev.action === "compareAndDelete") {
          config.delete(ev.node.key);
        } else {
          config.set(ev.node.key, ev.node.value ?? "");
        }
        onConfig(config);
      }
    } catch (error) {
      if (error instanceof EventIndexClearedError) continue; // fell behind: re-read
      if (signal.aborted) return;
      throw error;
    }
  }
}
