/**
 * Corruption tests: build a real data file, close it cleanly, then damage
 * copies of it the ways disks and people do (a flipped page, a zeroed page,
 * flipped bytes inside an entry, a truncated file, a garbage header, another
 * application id) and check that opening or reading reports it clearly, with
 * the path, instead of serving damaged data.
 */

import { copyFileSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "@cairn/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, openStorage, type StorageError } from "../src/index.js";

const dir = tempDir("cairn-storage-corrupt-");
const original = join(dir.path, "original.db");
const PAGE = 4096;
let pages: { name: string; pageno: number; pagetype: string }[] = [];

beforeAll(async () => {
  const s = await openStorage(original, { snapshotChunkSize: 8192 });
  const ents = [];
  for (let i = 1; i <= 3000; i++) {
    ents.push({
      index: i,
      term: 1 + Math.floor(i / 1000),
      type: 0,
      data: new Uint8Array(200).fill(i & 0xff),
    });
  }
  s.append({ hardState: { term: 3, vote: 7n, commit: 2500 }, entries: ents });
  await s.saveSnapshot({ index: 2000, term: 3, confState: { voters: [7n], learners: [] } }, [
    new Uint8Array(100_000).fill(0x42),
  ]);
  s.close(); // a clean close checkpoints the WAL into the file and removes it
  const db = await openDatabase(original, { pragmas: false });
  pages = db
    .prepare("SELECT name, pageno, pagetype FROM dbstat ORDER BY pageno")
    .all()
    .map((r) => ({ name: String(r.name), pageno: Number(r.pageno), pagetype: String(r.pagetype) }));
  db.close();
});

afterAll(() => dir.remove());

let n = 0;
function damagedCopy(damage: (bytes: Buffer) => Buffer | undefined): string {
  const path = join(dir.path, `damaged-${++n}.db`);
  copyFileSync(original, path);
  const bytes = readFileSync(path);
  const out = damage(bytes);
  writeFileSync(path, out ?? bytes);
  return path;
}

function pageOf(name: string, type: string): number {
  const p = pages.find((x) => x.name === name && x.pagetype === type);
  if (p === undefined)
    throw new Error(`no ${type} page of ${name} in ${JSON.stringify(pages.slice(0, 5))}`);
  return p.pageno;
}

async function expectOpenError(path: string, code: string, message: RegExp): Promise<void> {
  const error = (await openStorage(path).then(
    (s) => {
      s.close();
      return undefined;
    },
    (e: unknown) => e,
  )) as StorageError | undefined;
  expect(error, "opening a damaged file must fail").toBeDefined();
  expect(error?.code, String(error)).toBe(code);
  expect(error?.message).toContain(path);
  expect(error?.message).toMatch(message);
}

describe("corruption: damaged copies of a data file are reported with their path", () => {
  it("the undamaged original opens and reads back", async () => {
    const s = await openStorage(original, { integrityCheck: "full" });
    try {
      expect(s.lastIndex()).toBe(3000);
      expect(s.entries(1, 3001)).toHaveLength(3000);
    } finally {
      s.close();
    }
  });

  it("garbage bytes across a b-tree page of the log are caught by the check on open", async () => {
    const pageno = pageOf("raft_entries", "leaf");
    const path = damagedCopy((b) => {
      const at = (pageno - 1) * PAGE;
      for (let i = 0; i < 64; i++) b[at + i] = 0xa5 ^ i;
      return b;
    });
    await expectOpenError(path, "ERR_STORAGE_CORRUPT", /corrupt/);
  });

  it("a zeroed interior page is caught by the check on open", async () => {
    const pageno = pageOf("raft_entries", "internal");
    const path = damagedCopy((b) => {
      b.fill(0, (pageno - 1) * PAGE, pageno * PAGE);
      return b;
    });
    await expectOpenError(path, "ERR_STORAGE_CORRUPT", /corrupt/);
  });

  it("a flipped byte inside an entry's data is caught by the entry checksum", async () => {
    const pageno = pageOf("raft_entries", "leaf");
    const path = damagedCopy((b) => {
      // Cell content sits at the end of a leaf page: flip a byte there.
      b[pageno * PAGE - 50]! ^= 0x01;
      return b;
    });
    const s = await openStorage(path);
    try {
      expect(() => s.entries(1, 3001)).toThrow(
        expect.objectContaining({
          code: "ERR_STORAGE_CORRUPT",
          message: expect.stringContaining(path),
        }),
      );
    } finally {
      s.close();
    }
  });

  it("a flipped byte inside a snapshot chunk is caught by the chunk checksum", async () => {
    const overflow = pages.filter(
      (p) => p.name === "raft_snapshot_chunks" && p.pagetype === "overflow",
    );
    expect(overflow.length).toBeGreaterThan(0);
    const path = damagedCopy((b) => {
      b[(overflow[3]!.pageno - 1) * PAGE + 100]! ^= 0x10;
      return b;
    });
    const s = await openStorage(path);
    try {
      const read = async () => {
        for await (const _ of s.loadSnapshot()!.chunks()) {
          // reading is the point
        }
      };
      await expect(read()).rejects.toMatchObject({ code: "ERR_STORAGE_CORRUPT" });
    } finally {
      s.close();
    }
  });

  it("a truncated file is caught on open", async () => {
    const path = damagedCopy(() => undefined);
    truncateSync(path, Math.floor(readFileSync(path).length / 2 / PAGE) * PAGE);
    await expectOpenError(path, "ERR_STORAGE_CORRUPT", /corrupt/);
  });

  it("a garbage header is reported as not (or no longer) a Cairn/SQLite file", async () => {
    const path = damagedCopy((b) => {
      for (let i = 0; i < 100; i++) b[i] = (i * 73) & 0xff;
      return b;
    });
    const before = readFileSync(path);
    await expectOpenError(path, "ERR_STORAGE_NOT_CAIRN", /not an SQLite database/);
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it("another application id is reported, and the file is left as it was", async () => {
    const path = damagedCopy((b) => {
      b.writeUInt32BE(0x12345678, 68); // the application id field of the SQLite header
      return b;
    });
    const before = readFileSync(path);
    await expectOpenError(path, "ERR_STORAGE_NOT_CAIRN", /application id 0x12345678/);
    expect(readFileSync(path).equals(before)).toBe(true);
  });
});
