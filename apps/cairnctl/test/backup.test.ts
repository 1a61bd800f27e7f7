/**
 * `cairnctl backup` end to end, with real processes: a 3-member Cairn
 * cluster keeps taking writes while one member's data dir is copied; the
 * copy starts on new ports with `--force-new-cluster` as a one-member
 * cluster holding the same keys at the same indexes; bad input is refused
 * the way etcdctl refuses it and changes nothing.
 */

import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  type EtcdCluster,
  freePorts,
  type ManagedProcess,
  startEtcdCluster,
  startProcess,
  stopAll,
  tempDir,
  waitFor,
} from "@cairn/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PATIENT, runCairnctl, runInProcess } from "./support/run.js";
import { CAIRN_PROGRAM, cairnTarget, MEMBER_BINARY } from "./support/targets.js";

afterAll(stopAll);

interface Node {
  key: string;
  value?: string;
  modifiedIndex: number;
  createdIndex: number;
  ttl?: number;
}

async function getJson(endpoint: string, key: string): Promise<Node> {
  const r = await runCairnctl([...PATIENT, "--endpoints", endpoint, "-o", "json", "get", key]);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { node: Node }).node;
}

/** A member started on `dataDir` with new ports (and `extra` flags); resolves once healthy. */
async function startRestored(
  dataDir: string,
  extra: readonly string[],
  ports: readonly number[],
): Promise<{ url: string; proc: ManagedProcess }> {
  const url = `http://127.0.0.1:${ports[0]}`;
  const peer = `http://127.0.0.1:${ports[1]}`;
  const proc = startProcess(process.execPath, {
    args: [
      MEMBER_BINARY,
      "--name",
      "restored",
      "--data-dir",
      dataDir,
      "--listen-client-urls",
      url,
      "--advertise-client-urls",
      url,
      "--listen-peer-urls",
      peer,
      "--initial-advertise-peer-urls",
      peer,
      ...extra,
    ],
    name: "restored",
  });
  await waitFor(
    async () => {
      if (proc.hasExited())
        throw new Error(`restored member exited: ${proc.stderr().slice(-2000)}`);
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) });
      return (await res.text()) === '{"health":"true"}';
    },
    { timeoutMs: 30_000, what: "the restored member healthy" },
  );
  return { url, proc };
}

describe.skipIf(!cairnTarget.available)("cairnctl backup (real Cairn members)", () => {
  let cluster: EtcdCluster;
  const work = tempDir("cairn-backup-e2e-");
  beforeAll(async () => {
    cluster = await startEtcdCluster(3, {
      program: CAIRN_PROGRAM,
      namePrefix: "m",
      timeoutMs: 40_000,
    });
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
    work.remove();
  });

  it("copies a RUNNING member while writes go on; the copy starts with --force-new-cluster as one member with the same keys and indexes", async () => {
    const ep = cluster.members[0]!.clientUrl;
    const set = (...args: string[]) =>
      runCairnctl([...PATIENT, "--endpoints", cluster.endpoints, "set", ...args]);
    expect((await set("/bk/a", "alpha")).code).toBe(0);
    expect((await set("/bk/t", "ttl-value", "--ttl", "600")).code).toBe(0);
    const a = await getJson(ep, "/bk/a");
    const t = await getJson(ep, "/bk/t");

    // Sequential writes keep going while the backup runs.
    let writing = true;
    let written = 0;
    const writer = (async () => {
      while (writing && written < 2_000) {
        const r = await set(`/bk/w/${String(written).padStart(5, "0")}`, String(written));
        if (r.code !== 0) throw new Error(r.stderr);
        written++;
      }
    })();
    await waitFor(() => written >= 3, { timeoutMs: 15_000, what: "writes under way" });
    const backupDir = join(work.path, "live");
    const r = await runCairnctl([
      "backup",
      "--data-dir",
      cluster.members[1]!.dataDir,
      "--backup-dir",
      backupDir,
    ]);
    const writtenAtBackupEnd = written;
    writing = false;
    await writer;
    expect(r).toEqual({ stdout: "", stderr: "", code: 0 }); // no progress bar off a terminal
    expect(readdirSync(join(backupDir, "member"))).toEqual(["cairn.db"]);
    await cluster.stop();

    const ports = await freePorts(2);
    const restored = await startRestored(backupDir, ["--force-new-cluster"], ports);
    const a2 = await getJson(restored.url, "/bk/a");
    const t2 = await getJson(restored.url, "/bk/t");
    expect(a2).toEqual(a);
    expect({ ...t2, ttl: undefined, expiration: undefined }).toEqual({
      ...t,
      ttl: undefined,
      expiration: undefined,
    });
    expect(t2.ttl).toBeGreaterThan(500);

    // One consistent state: the writes that made it are exactly the first k, in order.
    const ls = await runCairnctl([
      ...PATIENT,
      "--endpoints",
      restored.url,
      "ls",
      "--sort",
      "/bk/w",
    ]);
    expect(ls.code).toBe(0);
    const keys = ls.stdout.trim().split("\n").filter(Boolean);
    expect(keys.length).toBeGreaterThan(0);
    // (+1: a write can be applied before the writer sees its answer.)
    expect(keys.length).toBeLessThanOrEqual(writtenAtBackupEnd + 1);
    expect(keys).toEqual(keys.map((_, i) => `/bk/w/${String(i).padStart(5, "0")}`));

    const list = await runCairnctl([...PATIENT, "--endpoints", restored.url, "member", "list"]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(
      new RegExp(
        `^[0-9a-f]+: name=restored peerURLs=http://127\\.0\\.0\\.1:${ports[1]} clientURLs=http://127\\.0\\.0\\.1:${ports[0]} isLeader=true\\n$`,
      ),
    );
    for (const m of cluster.members) expect(list.stdout).not.toContain(m.peerUrl);

    // New writes, then a plain restart (no --force-new-cluster): everything stays.
    expect(
      (await runCairnctl([...PATIENT, "--endpoints", restored.url, "set", "/bk/new", "n"])).code,
    ).toBe(0);
    const n = await getJson(restored.url, "/bk/new");
    expect(n.modifiedIndex).toBeGreaterThan(a.modifiedIndex);
    await restored.proc.stop("SIGTERM", 10_000);
    const again = await startRestored(backupDir, [], ports);
    expect(await getJson(again.url, "/bk/a")).toEqual(a);
    expect(await getJson(again.url, "/bk/new")).toEqual(n);
    expect(
      (await runCairnctl([...PATIENT, "--endpoints", again.url, "member", "list"])).stdout.split(
        "\n",
      ),
    ).toHaveLength(2);
    await again.proc.stop("SIGTERM", 10_000);
  }, 120_000);

  it("copies a STOPPED member; bad input is etcdctl's kind of message and exit 1, and changes nothing", async () => {
    const dataDir = join(work.path, "live"); // the restored member, now stopped
    const stoppedCopy = join(work.path, "stopped");
    const ok = await runCairnctl(["backup", "--data-dir", dataDir, "--backup-dir", stoppedCopy]);
    expect(ok).toEqual({ stdout: "", stderr: "", code: 0 });
    // On a terminal, a progress bar redrawn in place on stderr, ending at 100 %.
    const tty = await runInProcess(
      ["backup", "--data-dir", dataDir, "--backup-dir", join(work.path, "tty")],
      { stderrIsTTY: true },
    );
    expect(tty.code).toBe(0);
    expect(tty.stdout).toBe("");
    const frames = tty.stderr.split("\r").filter(Boolean);
    expect(frames.length).toBeGreaterThan(1);
    expect(frames[0]).toMatch(/^backup \[\.{30}\] {3}0% 0\/\d+ rows$/);
    expect(frames.at(-1)).toMatch(/^backup \[#{30}\] 100% (\d+)\/\1 rows\n$/);
    const ports = await freePorts(2);
    const m = await startRestored(stoppedCopy, ["--force-new-cluster"], ports);
    expect((await getJson(m.url, "/bk/new")).value).toBe("n");
    await m.proc.stop("SIGTERM", 10_000);

    const line = (msg: string) =>
      new RegExp(`^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{6} I \\| ${msg}\\n$`);
    const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const before = readFileSync(join(stoppedCopy, "member", "cairn.db"));

    const noData = await runCairnctl(["backup", "--backup-dir", join(work.path, "x")]);
    expect(noData.code).toBe(1);
    expect(noData.stderr).toMatch(line("--data-dir is required.*"));
    const noBackup = await runCairnctl(["backup", "--data-dir", dataDir]);
    expect(noBackup.code).toBe(1);
    expect(noBackup.stderr).toMatch(line("--backup-dir is required.*"));
    const missing = join(work.path, "nonexistent");
    const gone = await runCairnctl([
      "backup",
      "--data-dir",
      missing,
      "--backup-dir",
      join(work.path, "y"),
    ]);
    expect(gone).toMatchObject({ stdout: "", code: 1 });
    expect(gone.stderr).toMatch(
      line(esc(`open ${missing}/member/cairn.db: no such file or directory`)),
    );
    const full = await runCairnctl(["backup", "--data-dir", dataDir, "--backup-dir", stoppedCopy]);
    expect(full.code).toBe(1);
    expect(full.stderr).toMatch(
      line(
        esc(
          `failed creating backup dir ${stoppedCopy}/member: expected "${stoppedCopy}/member" to be empty, got ["cairn.db" "cairn.db.lock"]`,
        ),
      ),
    );
    const file = join(work.path, "afile");
    writeFileSync(file, "x");
    const notDir = await runCairnctl(["backup", "--data-dir", dataDir, "--backup-dir", file]);
    expect(notDir.code).toBe(1);
    expect(notDir.stderr).toMatch(
      line(esc(`failed creating backup dir ${file}/member: mkdir ${file}: not a directory`)),
    );
    const notOurs = join(work.path, "foreign");
    mkdirSync(join(notOurs, "member"), { recursive: true });
    writeFileSync(join(notOurs, "member", "cairn.db"), "not sqlite at all".repeat(100));
    const foreign = await runCairnctl([
      "backup",
      "--data-dir",
      notOurs,
      "--backup-dir",
      join(work.path, "z"),
    ]);
    expect(foreign.code).toBe(1);
    expect(foreign.stderr).toMatch(/ I \| .*not a Cairn data file/);

    // Nothing was created or changed by any of them.
    for (const d of ["x", "y", "z", "nonexistent"])
      expect(existsSync(join(work.path, d))).toBe(false);
    expect(readFileSync(join(stoppedCopy, "member", "cairn.db")).equals(before)).toBe(true);
    expect(readFileSync(file, "utf8")).toBe("x");
  }, 90_000);
});
