/** The testkit pieces the conformance, etcdctl and fuzz suites use, in one place. */
export {
  findProgram,
  type ManagedProcess,
  programOrSkip,
  sleep,
  startEtcd,
  startProcess,
  stopAll,
  waitFor,
} from "@cairn/testkit";
