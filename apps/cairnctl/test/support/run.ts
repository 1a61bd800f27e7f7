import { execFile } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type CliIO, run } from "../../src/index.js";

/** What one invocation printed and returned. */
export interface Outcome {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
}

/** Runs cairnctl in-process with captured I/O (stdin as given, no SRV, no TTY). */
export async function runInProcess(
  argv: readonly string[],
  options: {
    stdin?: string;
    env?: Record<string, string>;
    interrupt?: AbortSignal;
    sleep?: CliIO["sleep"];
    stderrIsTTY?: boolean;
    /** Sees stdout as it is printed. */
    onStdout?: (text: string) => void;
  } = {},
): Promise<Outcome> {
  let stdout = "";
  let stderr = "";
  const io: CliIO = {
    env: options.env ?? {},
    stdout: (t) => {
      stdout += t;
      options.onStdout?.(t);
    },
    stderr: (t) => {
      stderr += t;
    },
    stderrIsTTY: options.stderrIsTTY ?? false,
    readStdin: async () => options.stdin ?? "",
    promptPassword: async () => "",
    resolveSrv: async (name) => {
      throw new Error(`lookup ${name} on 127.0.0.1:53: no such host`);
    },
    spawn: async () => {
      throw new Error("spawn is not available in-process");
    },
    interrupt: options.interrupt ?? new AbortController().signal,
    sleep: options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))),
  };
  const code = await run(argv, io);
  return { stdout, stderr, code };
}

/** The built binary (`pnpm build` first; the package's test task depends on build). */
export const CAIRNCTL = join(
  dirname(fileURLToPath(import.meta.url)),
  "..",
  "..",
  "dist",
  "main.js",
);

/** Runs a program to completion with empty stdin; never rejects on a non-zero exit. */
export function runProgram(
  command: string,
  args: readonly string[],
  env: Record<string, string>,
  timeoutMs = 60_000,
): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = execFile(
      command,
      [...args],
      { env: { PATH: process.env.PATH ?? "", ...env }, timeout: timeoutMs, encoding: "utf8" },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
        resolve({ stdout, stderr, code });
      },
    );
    child.stdin?.end();
  });
}

/**
 * Generous `--timeout`/`--total-timeout` for tests about something other than
 * timing: the CI host is shared, and a starved one can take longer than etcdctl's
 * 2 s default for a process start, a handshake and a request.
 */
export const PATIENT = ["--timeout", "20s", "--total-timeout", "40s"] as const;

/**
 * Runs `check` up to five times, a second apart, until `healthy` holds of its
 * outcome (default: exit 0); returns the last outcome.
 */
export async function untilHealthy(
  check: () => Promise<Outcome>,
  healthy: (out: Outcome) => boolean = (out) => out.code === 0,
): Promise<Outcome> {
  let out = await check();
  for (let attempt = 1; attempt < 5 && !healthy(out); attempt++) {
    await new Promise((r) => setTimeout(r, 1_000));
    out = await check();
  }
  return out;
}

/** Runs the built cairnctl binary under Node. */
export function runCairnctl(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<Outcome> {
  return runProgram(process.execPath, [CAIRNCTL, ...args], env);
}
