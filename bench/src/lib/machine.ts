/**
 * The machine and software a result was measured on, written next to every
 * result so that two results are only compared when they are comparable.
 */
import { cpus, loadavg, release, totalmem } from "node:os";
import type { Runtime } from "@cairn/testkit";
import { cairnGitSha, etcdSystem, runtimeVersion } from "./systems.js";
import { wrkProgram, wrkVersion } from "./wrk.js";

/** Where and with what a result was measured. */
export interface MachineInfo {
  readonly cores: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly kernel: string;
  /** 1-minute load average when the run started: other work on a shared machine. */
  readonly loadAverage: number;
  readonly versions: {
    readonly node: string;
    /** The runtime Cairn's members ran under (`--runtime`) and its version: `bun 1.4.5`. */
    readonly cairnRuntime: string;
    readonly etcd: string;
    readonly cairn: string;
    readonly wrk: string;
  };
}

/** The version line of `runtime`, or says it is missing (the suites then say so too). */
function memberRuntimeVersion(runtime: Runtime): string {
  try {
    return runtimeVersion(runtime);
  } catch {
    return `${runtime} (not installed)`;
  }
}

/**
 * Describes this machine and the versions of everything a suite may run,
 * Cairn's members under `runtime`.
 */
export function machineInfo(runtime: Runtime): MachineInfo {
  const wrk = wrkProgram();
  return {
    cores: cpus().length,
    cpuModel: cpus()[0]?.model ?? "unknown",
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: release(),
    loadAverage: Math.round(loadavg()[0]! * 100) / 100,
    versions: {
      node: process.version,
      cairnRuntime: memberRuntimeVersion(runtime),
      etcd: etcdSystem()?.version ?? "not installed",
      cairn: cairnGitSha(),
      wrk: wrk === undefined ? "not installed" : wrkVersion(wrk),
    },
  };
}
