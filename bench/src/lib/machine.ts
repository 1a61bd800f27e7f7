/**
 * The machine and software a result was measured on, written next to every
 * result so that two results are only compared when they are comparable.
 */
import { cpus, loadavg, release, totalmem } from "node:os";
import { cairnGitSha, etcdSystem } from "./systems.js";
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
    readonly etcd: string;
    readonly cairn: string;
    readonly wrk: string;
  };
}

/** Describes this machine and the versions of everything a suite may run. */
export function machineInfo(): MachineInfo {
  const wrk = wrkProgram();
  return {
    cores: cpus().length,
    cpuModel: cpus()[0]?.model ?? "unknown",
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: release(),
    loadAverage: Math.round(loadavg()[0]! * 100) / 100,
    versions: {
      node: process.version,
      etcd: etcdSystem()?.version ?? "not installed",
      cairn: cairnGitSha(),
      wrk: wrk === undefined ? "not installed" : wrkVersion(wrk),
    },
  };
}
