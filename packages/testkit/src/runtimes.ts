import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The JavaScript runtimes Cairn runs on. */
export type Runtime = "node" | "bun" | "deno";

/** All runtimes of the test matrix, in the order suites run them. */
export const RUNTIMES: readonly Runtime[] = ["node", "bun", "deno"];

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 10; i++) {
    if (existsSync(join(dir, "pnpm-workspace.yaml"))) return dir;
    dir = dirname(dir);
  }
  throw new Error("testkit: cannot find the repository root");
}

/**
 * The command and leading arguments that run a JavaScript file under
 * `runtime`. Bun and Deno come from the workspace's npm devDependencies, so
 * nothing outside the repository is needed.
 */
export function runtimeCommand(runtime: Runtime): { command: string; args: string[] } {
  const modules = join(repoRoot(), "node_modules");
  // The real binaries, not the `.bin` shell wrappers: a wrapper does not pass
  // signals on, so stopping it would leave the runtime running.
  switch (runtime) {
    case "node":
      return { command: process.execPath, args: [] };
    case "bun":
      return { command: join(modules, "bun", "bin", "bun.exe"), args: [] };
    case "deno":
      return { command: join(modules, "deno", "deno"), args: ["run", "-A", "--quiet"] };
  }
}

/**
 * The built Cairn member (`apps/cairn/dist/main.js`, or the file named by
 * `CAIRN_MEMBER_BINARY`) under `runtime`, as a program taking etcd's flags
 * (for `startEtcdCluster`'s `program`); undefined when it is not built.
 */
export function cairnMemberProgram(
  runtime: Runtime = "node",
): { command: string; args: string[] } | undefined {
  const entry =
    process.env.CAIRN_MEMBER_BINARY ?? join(repoRoot(), "apps", "cairn", "dist", "main.js");
  if (!existsSync(entry)) return undefined;
  const { command, args } = runtimeCommand(runtime);
  return { command, args: [...args, entry] };
}
