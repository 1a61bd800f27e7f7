/**
 * Everything cairnctl needs from its runtime, injected so the command logic
 * runs in-process in tests and the same on Node, Bun and Deno. The real
 * implementation is in `main.ts` (the only file touching `process`).
 */

import type { FetchLike } from "@cairn/client";

/** One SRV answer. */
export interface SrvRecord {
  readonly name: string;
  readonly port: number;
  readonly priority: number;
  readonly weight: number;
}

/** TLS material from `--ca-file`, `--cert-file`, `--key-file`. */
export interface TlsFiles {
  readonly caFile?: string;
  readonly certFile?: string;
  readonly keyFile?: string;
  /** TLS server name to verify (the SRV domain, bootstrap.md §4.4). */
  readonly serverName?: string;
}

/** The runtime services of one cairnctl invocation. */
export interface CliIO {
  /** Environment variables (`ETCDCTL_*`). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Writes to standard output. */
  stdout(text: string): void;
  /** Writes to standard error. */
  stderr(text: string): void;
  /** True when standard error is a terminal (`backup` then draws a progress bar). */
  readonly stderrIsTTY?: boolean;
  /** Reads all of standard input (a value given through a pipe). */
  readStdin(): Promise<string>;
  /** Asks for a password without echo (`--username user` without `:password`). */
  promptPassword(prompt: string): Promise<string>;
  /** Looks up SRV records of a name like `_etcd-client._tcp.example.com`; rejects with Go's error text. */
  resolveSrv(name: string): Promise<SrvRecord[]>;
  /**
   * Starts `command` with `args` and the environment `env` (the process's own
   * plus `ETCD_WATCH_*`), its output going to cairnctl's stdout/stderr; does
   * not wait for it (etcdctl starts each one in a goroutine). Rejects if it
   * cannot be started.
   */
  spawn(
    command: string,
    args: readonly string[],
    env: Readonly<Record<string, string>>,
  ): Promise<void>;
  /** A fetch that uses the TLS files, or undefined when this runtime cannot. */
  fetchWithTls?(tls: TlsFiles): FetchLike | undefined;
  /** The fetch to use (defaults to the global one). */
  readonly fetch?: FetchLike;
  /** Aborted on Ctrl-C: watches then end with exit code 0, as in etcdctl. */
  readonly interrupt: AbortSignal;
  /** Waits `ms`, or less if `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}
