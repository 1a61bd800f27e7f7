// Tries to open a Cairn data file and prints the outcome (lock.test.ts).
// Runs under Node, Bun or Deno with that runtime's default driver, from the built package.
//
// usage: <runtime> try-open.mjs <data file>
//
// Prints "opened <runtime>" (and closes) or "refused <code> <runtime>".

import { openStorage, runtime } from "../../dist/index.js";

try {
  const storage = await openStorage(process.argv[2] ?? "");
  storage.close();
  console.log(`opened ${runtime}`);
} catch (error) {
  console.log(`refused ${error?.code ?? String(error)} ${runtime}`);
}
