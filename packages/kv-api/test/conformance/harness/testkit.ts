/** The testkit pieces the conformance, etcdctl and fuzz suites use, in one place. */
export {
  findProgram,
  freePorts,
  type ManagedProcess,
  memberFlags,
  programOrSkip,
  sleep,
  startEtcd,
  startProcess,
  stopAll,
  tempDir,
  waitFor,
} from "@cairn/testkit";
