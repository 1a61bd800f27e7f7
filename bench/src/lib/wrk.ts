/**
 * wrk (Debian's package, C, epoll) as the load generator of the throughput
 * figures, driven by a Lua script that pre-builds every request so the
 * per-request cost stays a table lookup. wrk shares the 2 cores with the
 * server, so each run also measures wrk's own CPU: the CPU time of the
 * children this process has reaped (`cutime`+`cstime` in /proc/self/stat)
 * before and after wrk, which is exact and needs no sampling.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { findProgram, startProcess, type TempDir, tempDir } from "@cairn/testkit";
import { benchValue, KEY_COUNT, KEY_PREFIX, type LoadMode, type LoadResult } from "./load.js";
import { clockTicks } from "./procstat.js";

/** wrk's path, or undefined. */
export function wrkProgram(): string | undefined {
  return findProgram("wrk")?.path;
}

/**
 * Finds wrk, installing Debian's package when this machine can (root with
 * apt-get), the way `scripts/ensure-tools.sh` does for etcd. Returns the path,
 * or undefined after a loud line naming what falls back.
 */
export function ensureWrk(log: (line: string) => void): string | undefined {
  const found = wrkProgram();
  if (found !== undefined) return found;
  const root = typeof process.getuid === "function" && process.getuid() === 0;
  if (root && findProgram("apt-get") !== undefined) {
    log("bench: wrk is missing; installing Debian's wrk package");
    try {
      const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
      execFileSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", "wrk"], {
        env,
        stdio: "ignore",
        timeout: 600_000,
      });
    } catch {
      try {
        execFileSync("apt-get", ["update", "-qq"], {
          env: process.env,
          stdio: "ignore",
          timeout: 600_000,
        });
        execFileSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", "wrk"], {
          env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
          stdio: "ignore",
          timeout: 600_000,
        });
      } catch {
        // reported below
      }
    }
    const installed = wrkProgram();
    if (installed !== undefined) return installed;
  }
  log(
    "!!! bench: wrk is not installed and could not be installed (needs root and apt-get);" +
      " the throughput figures use the Node generator instead, which costs more CPU.",
  );
  return undefined;
}

/** The version line of wrk. */
export function wrkVersion(path: string): string {
  try {
    execFileSync(path, ["--version"], { encoding: "utf8" });
  } catch (error) {
    // wrk prints its version and usage, then exits 1.
    const out = String((error as { stdout?: unknown }).stdout ?? "");
    const m = /wrk (\S+)/.exec(out);
    if (m !== null) return `wrk ${m[1]}`;
  }
  return "wrk unknown";
}

// The script: `-- <mode> <keys> <value> <prefix>`. Requests are formatted
// once per thread in init(); request() walks the keys round-robin from a
// random start (so threads do not move in lockstep), and done() prints one
// JSON line the harness parses.
const SCRIPT = `
local mode, keys, puts, gets, counter = "get", 0, {}, {}, 0
local tid = 0
local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  mode = args[1]
  keys = tonumber(args[2])
  local body = "value=" .. args[3]
  local prefix = args[4]
  local hdr = { ["Content-Type"] = "application/x-www-form-urlencoded" }
  for i = 0, keys - 1 do
    if mode == "put" or mode == "mix" then
      puts[i + 1] = wrk.format("PUT", prefix .. i, hdr, body)
    end
    if mode == "get" or mode == "mix" then
      gets[i + 1] = wrk.format("GET", prefix .. i)
    elseif mode == "qget" then
      gets[i + 1] = wrk.format("GET", prefix .. i .. "?quorum=true")
    end
  end
  math.randomseed(os.time() * 1000 + (tonumber(tid) or 0) * 7919)
  counter = math.random(keys) - 1
end

function request()
  counter = counter + 1
  if counter > keys then counter = 1 end
  if mode == "put" then return puts[counter] end
  if mode == "mix" and math.random(10) == 1 then return puts[counter] end
  return gets[counter]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH-RESULT {"requests":%d,"durationUs":%d,"p50Us":%d,"p99Us":%d,"errors":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.status + e.timeout))
end
`;

let scriptDir: TempDir | undefined;

function scriptPath(): string {
  if (scriptDir === undefined) {
    scriptDir = tempDir("cairn-bench-wrk-");
    writeFileSync(join(scriptDir.path, "v2.lua"), SCRIPT);
    process.once("exit", () => scriptDir?.remove());
  }
  return join(scriptDir.path, "v2.lua");
}

/** CPU seconds of this process's reaped children so far (/proc/self/stat cutime + cstime). */
function childrenCpuSeconds(): number {
  const text = readFileSync("/proc/self/stat", "utf8");
  const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return (Number(rest[13]) + Number(rest[14])) / clockTicks();
}

/** Options of {@link runWrk}. */
export interface WrkOptions {
  readonly wrk: string;
  readonly url: string;
  readonly mode: LoadMode;
  readonly connections: number;
  readonly threads: number;
  readonly durationSec: number;
  readonly keys?: number;
}

/** A wrk run ended without its result line. */
export class WrkError extends Error {
  override readonly name = "WrkError";
  readonly code = "BENCH_WRK";
}

/** Runs wrk once and returns its throughput, latency and own CPU use. */
export async function runWrk(options: WrkOptions): Promise<LoadResult> {
  const threads = Math.max(1, Math.min(options.threads, options.connections));
  const args = [
    ...["-t", String(threads), "-c", String(options.connections)],
    ...["-d", `${options.durationSec}s`, "--timeout", "10s"],
    ...["-s", scriptPath(), options.url, "--"],
    ...[options.mode, String(options.keys ?? KEY_COUNT), benchValue(), KEY_PREFIX],
  ];
  const cpu0 = childrenCpuSeconds();
  const proc = startProcess(options.wrk, { args, name: "wrk" });
  const code = await proc.exited;
  // Node has reaped wrk by the time 'exit' fires, so its CPU is in cutime now.
  const generatorCpu = childrenCpuSeconds() - cpu0;
  const line = proc
    .stdout()
    .split("\n")
    .find((l) => l.startsWith("BENCH-RESULT "));
  if (line === undefined) {
    throw new WrkError(`wrk exited (${code}) without a result:\n${proc.stdout()}${proc.stderr()}`);
  }
  const r = JSON.parse(line.slice("BENCH-RESULT ".length)) as {
    requests: number;
    durationUs: number;
    p50Us: number;
    p99Us: number;
    errors: number;
  };
  const durationSec = r.durationUs / 1e6;
  return {
    requests: r.requests,
    durationSec,
    rps: r.requests / durationSec,
    p50Ms: r.p50Us / 1000,
    p99Ms: r.p99Us / 1000,
    errors: r.errors,
    generatorCores: generatorCpu / durationSec,
  };
}
