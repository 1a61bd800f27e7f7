/**
 * cairnctl as a library: `run(argv, io)` executes one command line with
 * injected I/O and returns the exit code (the `cairnctl` binary is
 * `main.ts`, which supplies the Node/Bun/Deno I/O).
 */

export { COMMANDS, ExitCode, GLOBAL_FLAGS, run } from "./cli.js";
export { FlagError, parseGoDuration, parseGoFlags, parseGoInt, reorderArgs } from "./flags.js";
export { formatResponse, goJsonString, goResponseJson } from "./format.js";
export type { CliIO, SrvRecord, TlsFiles } from "./io.js";
export { PROGRAM, VERSION } from "./version.js";
