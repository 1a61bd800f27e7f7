// Holds a Cairn data file open until killed (lock.test.ts). Runs under Node,
// Bun or Deno with that runtime's default driver, from the built package.
//
// usage: <runtime> hold.mjs <data file>
//
// Prints "holding <pid> <runtime> <driver>": the test SIGKILLs that pid, since
// node_modules/.bin/{bun,deno} are shell wrappers whose death would not end us.

import { openStorage, runtime } from "../../dist/index.js";

const storage = await openStorage(process.argv[2] ?? "");
storage.append({
  entries: [{ index: storage.lastIndex() + 1, term: 1, type: 0, data: new Uint8Array(8) }],
});
console.log(`holding ${process.pid} ${runtime} ${storage.driver}`);
// Never outlive the test: when the parent (or its wrapper) is gone, leave.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.exit(3);
}, 100);
