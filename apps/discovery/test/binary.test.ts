import { fileURLToPath } from "node:url";
import {
  freePort,
  RUNTIMES,
  runtimeCommand,
  startProcess,
  stopAll,
  type TempDir,
  tempDir,
  waitFor,
} from "@cairn/testkit";
import { afterAll, describe, expect, it } from "vitest";

const MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));

async function run(args: string[], env: Record<string, string> = {}) {
  const p = startProcess(process.execPath, {
    args: [MAIN, ...args],
    env: { ...process.env, ...env },
  });
  const code = await p.exited;
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}

describe("the discovery binary", () => {
  const dirs: TempDir[] = [];
  afterAll(async () => {
    await stopAll();
    for (const d of dirs) d.remove();
  });

  it.each([
    [["--addr", "nope"], 'discovery: invalid --addr "nope": want host:port, e.g. 127.0.0.1:8087'],
    [["--token-ttl", "soon"], 'discovery: invalid --token-ttl "soon"'],
    [["--rate-limit", "-3"], "discovery: --rate-limit needs a value"],
    [["--rate-limit=-3"], 'discovery: invalid --rate-limit "-3"'],
    [["--host", "ftp://x"], 'discovery: invalid --host "ftp://x"'],
    [["--bogus"], "discovery: Unknown option '--bogus'"],
  ])("%j: one line naming the flag, exit 2", async (args, line) => {
    const r = await run(args);
    expect(r.code).toBe(2);
    expect(r.stderr.startsWith(line)).toBe(true);
    expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
  });

  it("reads DISC_* variables and names the variable when it is bad", async () => {
    const r = await run([], { DISC_TOKEN_TTL: "0s" });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^discovery: invalid DISC_TOKEN_TTL "0s": want a positive duration/);
  });

  it("--help prints the flags and exits 0", async () => {
    const r = await run(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("--data-dir dir");
    expect(r.stdout).toContain("DISC_ADDR");
  });

  it("serves on --addr with --host from the environment and stops cleanly on SIGTERM", async () => {
    const dir = tempDir("cairn-discovery-");
    dirs.push(dir);
    const port = await freePort();
    const p = startProcess(process.execPath, {
      args: [MAIN, "--addr", `127.0.0.1:${port}`, "--data-dir", dir.path],
      env: { ...process.env, DISC_HOST: "https://disc.example.org" },
    });
    const base = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await fetch(`${base}/health`)).ok, { what: "the service" });
    expect(await (await fetch(`${base}/new`)).text()).toMatch(
      /^https:\/\/disc\.example\.org\/[0-9a-f]{32}$/,
    );
    expect(await p.stop("SIGTERM")).toBe(0);
    expect(p.stderr()).toContain('"msg":"serving discovery"');
  });

  it("exits 1 with one line when the --etcd cluster does not answer", async () => {
    const port = await freePort();
    const r = await run(["--etcd", `http://127.0.0.1:${port}`, "--addr", "127.0.0.1:0"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `discovery: cannot start: no endpoint of the cluster answered (http://127.0.0.1:${port})`,
    );
  });

  it("exits 1 with one line when it cannot listen", async () => {
    const dir = tempDir("cairn-discovery-");
    dirs.push(dir);
    const port = await freePort();
    const holder = startProcess(process.execPath, {
      args: [MAIN, "--addr", `127.0.0.1:${port}`, "--data-dir", dir.path],
    });
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/health`)).ok);
    const other = tempDir("cairn-discovery-");
    dirs.push(other);
    const r = await run(["--addr", `127.0.0.1:${port}`, "--data-dir", other.path]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/discovery: cannot start: .*EADDRINUSE/);
    await holder.stop();
  });

  it.each(RUNTIMES)(
    "runs under %s: a token, a registration, a listing, a clean stop",
    async (runtime) => {
      const dir = tempDir("cairn-discovery-");
      dirs.push(dir);
      const port = await freePort();
      const { command, args } = runtimeCommand(runtime);
      const p = startProcess(command, {
        name: `discovery-${runtime}`,
        args: [...args, MAIN, "--addr", `127.0.0.1:${port}`, "--data-dir", dir.path],
      });
      const base = `http://127.0.0.1:${port}`;
      await waitFor(async () => (await fetch(`${base}/health`)).ok, {
        timeoutMs: 20_000,
        what: `the service under ${runtime}`,
      });
      const url = await (await fetch(`${base}/new?size=2`)).text();
      const put = await fetch(`${url}/abc?prevExist=false`, {
        method: "PUT",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: "value=m1%3Dhttp%3A%2F%2F127.0.0.1%3A1",
      });
      expect(put.status).toBe(201);
      const list = (await (await fetch(url)).json()) as { node: { nodes: { value: string }[] } };
      expect(list.node.nodes.map((n) => n.value)).toEqual(["m1=http://127.0.0.1:1"]);
      expect(await p.stop("SIGTERM")).toBe(0);
    },
  );
});
