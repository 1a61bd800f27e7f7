/**
 * What `cairnctl --version` prints where etcdctl prints its own name and
 * version (`etcdctl version: 3.4.23` / `API version: 2`): the program name
 * and Cairn's version. A test keeps `VERSION` equal to package.json's.
 */

/** The program name used in help texts and hints (etcdctl prints `etcdctl` there). */
export const PROGRAM = "cairnctl";

/** Cairn's version. */
export const VERSION = "0.1.0";
