/**
 * Where the v2 proxy learns the cluster (spec bootstrap.md §3.4), as etcd
 * 3.4's `startProxy`: a list of peer URLs, kept in `<data-dir>/proxy/cluster`
 * as `{"PeerURLs":[...]}` (so a restarted proxy needs neither discovery nor
 * `--initial-cluster`), and on every refresh the members asked for the
 * current membership on their peer `/members` endpoint, whose client URLs
 * are the ones the proxy forwards to.
 */
import { existsSync } from "node:fs";
import { mkdir, open, readFile, rename } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import type { Logger } from "../log/index.js";

/** The proxy's directory in a data dir: its presence makes a restarted process a proxy. */
export function proxyDir(dataDir: string): string {
  return join(dataDir, "proxy");
}

/** True when `dataDir` holds a proxy (etcd's `dirProxy`). */
export function hasProxyData(dataDir: string): boolean {
  return existsSync(proxyDir(dataDir));
}

const ClusterFileSchema = z.object({ PeerURLs: z.array(z.string()).nullable() });

/** A cluster file that cannot be read as etcd writes it. */
export class ClusterFileError extends Error {
  override readonly name = "ClusterFileError";
}

/** `<data-dir>/proxy/cluster`, read and written as etcd does. */
export class ClusterFile {
  readonly path: string;

  constructor(dataDir: string) {
    this.path = join(proxyDir(dataDir), "cluster");
  }

  /** The stored peer URLs, or undefined when there is no file yet. */
  async read(): Promise<string[] | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new ClusterFileError(`proxy cluster file ${this.path} is not JSON`, { cause: error });
    }
    const checked = ClusterFileSchema.safeParse(parsed);
    if (!checked.success) {
      throw new ClusterFileError(`proxy cluster file ${this.path} has no PeerURLs list`);
    }
    return checked.data.PeerURLs ?? [];
  }

  /** Replaces the file atomically: written and fsynced beside it, then renamed over it. */
  async write(peerUrls: readonly string[]): Promise<void> {
    await mkdir(join(this.path, ".."), { recursive: true, mode: 0o700 });
    const tmp = `${this.path}.bak`;
    const handle = await open(tmp, "w", 0o600);
    try {
      await handle.writeFile(JSON.stringify({ PeerURLs: peerUrls }));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, this.path);
  }
}

/** One member as a peer's `/members` lists it. */
const RemoteMembersSchema = z.array(
  z.object({
    peerURLs: z.array(z.string()).nullable().default([]),
    clientURLs: z.array(z.string()).nullable().default([]),
  }),
);

/** The cluster as the members see it: every member's peer and client URLs, each list sorted. */
export interface RemoteCluster {
  readonly peerUrls: string[];
  readonly clientUrls: string[];
}

/**
 * Asks each of `peerUrls` in turn for the membership (GET `<peer>/members`,
 * etcd's `GetClusterFromRemotePeers`); the first answer wins. Undefined
 * when none answers.
 */
export async function clusterFromPeers(
  peerUrls: readonly string[],
  options: { fetch?: typeof fetch; timeoutMs: number; logger: Logger },
): Promise<RemoteCluster | undefined> {
  const f = options.fetch ?? globalThis.fetch;
  for (const url of peerUrls) {
    try {
      const res = await f(`${url}/members`, { signal: AbortSignal.timeout(options.timeoutMs) });
      if (!res.ok) {
        await res.body?.cancel();
        continue;
      }
      const members = RemoteMembersSchema.parse(await res.json());
      return {
        peerUrls: members.flatMap((m) => m.peerURLs ?? []).sort(),
        clientUrls: members.flatMap((m) => m.clientURLs ?? []).sort(),
      };
    } catch (error) {
      options.logger.debug("could not get cluster response", {
        address: url,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return undefined;
}
