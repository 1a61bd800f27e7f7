import { type ChildProcess, spawn } from "node:child_process";

/** How to start a child process. */
export interface StartProcessOptions {
  args?: readonly string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Label used in logs and errors (defaults to the command). */
  name?: string;
}

/** A child process this test started, with its output kept for diagnostics. */
export interface ManagedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  /** Everything written to stdout so far. */
  stdout(): string;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Resolves with the exit code (or signal name) once the process has ended. */
  readonly exited: Promise<number | string>;
  /** True once the process has ended. */
  hasExited(): boolean;
  /** Sends `signal` and waits (bounded) for the exit; SIGKILL after `graceMs`. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number | string>;
}

const live = new Set<ManagedProcess>();

/**
 * Spawns `command` and registers it so {@link stopAll} (and process exit)
 * ends it: a test never leaves a server behind, and never kills one it did
 * not start.
 */
export function startProcess(command: string, options: StartProcessOptions = {}): ManagedProcess {
  const child = spawn(command, options.args ?? [], {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (child.pid === undefined) {
    throw new Error(`could not start ${command}`);
  }
  let out = "";
  let err = "";
  child.stdout?.setEncoding("utf8").on("data", (d: string) => {
    out += d;
  });
  child.stderr?.setEncoding("utf8").on("data", (d: string) => {
    err += d;
  });
  let ended = false;
  const exited = new Promise<number | string>((resolve) => {
    child.once("exit", (code, signal) => {
      ended = true;
      resolve(code ?? signal ?? "unknown");
    });
  });
  const managed: ManagedProcess = {
    name: options.name ?? command,
    child,
    pid: child.pid,
    stdout: () => out,
    stderr: () => err,
    exited,
    hasExited: () => ended,
    async stop(signal = "SIGTERM", graceMs = 5_000) {
      if (!ended) {
        child.kill(signal);
        const timer = setTimeout(() => {
          if (!ended) child.kill("SIGKILL");
        }, graceMs);
        try {
          await exited;
        } finally {
          clearTimeout(timer);
        }
      }
      live.delete(managed);
      return exited;
    },
  };
  live.add(managed);
  void exited.then(() => live.delete(managed));
  return managed;
}

/** Stops every process started through {@link startProcess} that still runs. */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((p) => p.stop("SIGKILL", 1_000)));
}

process.once("exit", () => {
  for (const p of live) {
    if (!p.hasExited()) p.child.kill("SIGKILL");
  }
});
