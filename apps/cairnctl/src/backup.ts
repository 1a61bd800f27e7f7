/**
 * `backup`: etcdctl v2's offline/online copy of a member's data directory
 * (etcdctl/ctlv2/command/backup_command.go), for Cairn's data layout: the
 * whole member state is one SQLite file, `<data-dir>/member/cairn.db`, copied
 * as one consistent state even while the member runs, and given new member
 * and cluster ids so the copy cannot rejoin the old cluster. The operator
 * starts a member on the copy with `--force-new-cluster`.
 *
 * Messages follow etcdctl's: its failures are `log.Fatal` lines
 * (`<date> <time> I | <message>` on stderr) and exit 1.
 */

import { mkdirSync, readdirSync, rmdirSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { backupMember, memberDataFile } from "@cairn/server";
import { type BackupProgress, StorageError } from "@cairn/storage";
import type { CliIO } from "./io.js";

/** The flags of `backup`. */
export interface BackupFlags {
  readonly dataDir: string;
  readonly walDir: string;
  readonly backupDir: string;
  readonly backupWalDir: string;
  readonly withV3: boolean;
}

/** capnslog's line prefix, as etcdctl's fatal messages carry it: `2026-11-22 03:27:41.861697 I | `. */
function logLine(message: string, at: Date = new Date()): string {
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  const date = `${at.getFullYear()}-${p(at.getMonth() + 1)}-${p(at.getDate())}`;
  const time = `${p(at.getHours())}:${p(at.getMinutes())}:${p(at.getSeconds())}.${p(at.getMilliseconds() * 1000, 6)}`;
  return `${date} ${time} I | ${message}\n`;
}

/** Go's text for the errno codes a file operation here can meet (syscall.Errno.Error). */
const ERRNO_TEXT: Readonly<Record<string, string>> = {
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ENOENT: "no such file or directory",
  ENOTDIR: "not a directory",
  EEXIST: "file exists",
  EROFS: "read-only file system",
  ENOSPC: "no space left on device",
  EISDIR: "is a directory",
};

/** `<op> <path>: <errno text>`, as Go's *PathError prints. */
function pathError(op: string, path: string, error: unknown): string {
  const code = (error as { code?: string }).code ?? "";
  return `${op} ${path}: ${ERRNO_TEXT[code] ?? (error as Error).message}`;
}

class Fatal extends Error {
  override readonly name = "Fatal";
}

/** Go's os.MkdirAll: creates the missing parents; returns the directories it created. */
function mkdirAll(path: string): string[] {
  const missing: string[] = [];
  for (let p = path; ; p = dirname(p)) {
    let exists = false;
    try {
      const st = statSync(p);
      if (!st.isDirectory()) throw new Fatal(pathError("mkdir", p, { code: "ENOTDIR" }));
      exists = true;
    } catch (error) {
      if (error instanceof Fatal) throw error;
      // ENOENT or ENOTDIR: look at the parent (Go's MkdirAll reports the
      // first existing non-directory it meets as `mkdir <it>: not a directory`).
    }
    if (exists || dirname(p) === p) break;
    missing.unshift(p);
  }
  const created: string[] = [];
  try {
    for (const p of missing) {
      try {
        mkdirSync(p, { mode: 0o700 });
      } catch (error) {
        throw new Fatal(pathError("mkdir", p, error));
      }
      created.push(p);
    }
  } catch (error) {
    removeCreated(created);
    throw error;
  }
  return created;
}

/** Removes directories this run created, deepest first (they are empty again). */
function removeCreated(created: readonly string[]): void {
  for (const p of [...created].reverse()) {
    try {
      rmdirSync(p);
    } catch {
      // not empty or gone: leave it
    }
  }
}

/** Go's %q of a string slice: `["a" "b"]`. */
function quoteList(names: readonly string[]): string {
  return `[${names.map((n) => JSON.stringify(n)).join(" ")}]`;
}

/** A progress bar on one terminal line, redrawn in place; `done()` ends the line. */
function progressBar(io: CliIO): { update(p: BackupProgress): void; done(): void } {
  const width = 30;
  let last = "";
  let drawn = false;
  return {
    update({ copiedRows, totalRows }) {
      const ratio = totalRows === 0 ? 1 : Math.min(1, copiedRows / totalRows);
      const filled = Math.round(ratio * width);
      const line = `backup [${"#".repeat(filled)}${".".repeat(width - filled)}] ${String(Math.floor(ratio * 100)).padStart(3)}% ${copiedRows}/${totalRows} rows`;
      if (line === last) return;
      last = line;
      drawn = true;
      io.stderr(`\r${line}`);
    },
    done() {
      if (drawn) io.stderr("\n");
    },
  };
}

/**
 * Runs `backup` and returns its exit code: 0 after a complete copy, 1 (with
 * etcdctl's kind of message) when the input is bad or the copy fails, with
 * nothing left behind.
 */
export async function runBackup(io: CliIO, flags: BackupFlags): Promise<number> {
  const fatal = (message: string) => {
    io.stderr(logLine(message));
    return 1;
  };
  if (flags.dataDir === "") return fatal("--data-dir is required: the member data dir to back up");
  if (flags.backupDir === "") return fatal("--backup-dir is required: where to write the backup");
  // Cairn keeps its log inside the data file: there is no WAL directory to
  // read or to write, so these only get a note (etcdctl's --with-v3 is what
  // Cairn always does: the whole state is in the one file).
  if (flags.walDir !== "" || flags.backupWalDir !== "") {
    io.stderr(
      logLine(
        `ignoring --wal-dir/--backup-wal-dir: Cairn keeps its log in ${memberDataFile(flags.dataDir)}`,
      ),
    );
  }
  const source = resolve(memberDataFile(flags.dataDir));
  try {
    statSync(source);
  } catch (error) {
    return fatal(pathError("open", memberDataFile(flags.dataDir), error));
  }
  const memberDir = dirname(memberDataFile(flags.backupDir));
  let created: string[];
  try {
    created = mkdirAll(resolve(memberDir));
    const present = readdirSync(memberDir).sort();
    if (present.length > 0) {
      removeCreated(created);
      throw new Fatal(
        `expected ${JSON.stringify(memberDir)} to be empty, got ${quoteList(present)}`,
      );
    }
  } catch (error) {
    const why = error instanceof Fatal ? error.message : pathError("open", memberDir, error);
    return fatal(`failed creating backup dir ${memberDir}: ${why}`);
  }
  const bar = io.stderrIsTTY === true ? progressBar(io) : undefined;
  try {
    await backupMember(flags.dataDir, flags.backupDir, {
      ...(bar === undefined ? {} : { onProgress: (p: BackupProgress) => bar.update(p) }),
    });
    bar?.done();
    return 0;
  } catch (error) {
    bar?.done();
    removeCreated(created);
    if (error instanceof StorageError) return fatal(error.message);
    const code = (error as { code?: string }).code;
    if (code !== undefined && code in ERRNO_TEXT) {
      return fatal(pathError("write", join(memberDir, "cairn.db"), error));
    }
    return fatal(error instanceof Error ? error.message : String(error));
  }
}
