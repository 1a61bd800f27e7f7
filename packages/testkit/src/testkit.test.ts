import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  freePorts,
  programOrSkip,
  RUNTIMES,
  runtimeCommand,
  startEtcd,
  startNats,
  startProcess,
  stopAll,
  tempDir,
  waitFor,
} from "./index.js";

afterAll(stopAll);

describe("ports and waits", () => {
  it("hands out distinct ports", async () => {
    const ports = await freePorts(5);
    expect(new Set(ports).size).toBe(5);
    for (const p of ports) expect(p).toBeGreaterThan(0);
  });

  it("bounds a wait and names what it waited for", async () => {
    await expect(waitFor(() => false, { timeoutMs: 100, what: "never" })).rejects.toThrow(
      /waiting for never/,
    );
  });
});

describe("processes", () => {
  it("stops a process it started, escalating to SIGKILL when it ignores SIGTERM", async () => {
    const p = startProcess(process.execPath, {
      args: ["-e", "process.on('SIGTERM',()=>{}); setInterval(()=>{}, 1000); console.log('up')"],
    });
    await waitFor(() => p.stdout().includes("up"), { what: "child up" });
    const result = await p.stop("SIGTERM", 300);
    expect(result).toBe("SIGKILL");
    expect(p.hasExited()).toBe(true);
  });
});

describe("runtimes", () => {
  for (const runtime of RUNTIMES) {
    it(`runs a script file under ${runtime}`, async () => {
      const dir = tempDir();
      try {
        const file = join(dir.path, "which.mjs");
        writeFileSync(
          file,
          "console.log(typeof Bun !== 'undefined' ? 'bun' : typeof Deno !== 'undefined' ? 'deno' : 'node');\n",
        );
        const { command, args } = runtimeCommand(runtime);
        const proc = startProcess(command, { args: [...args, file] });
        expect(await proc.exited).toBe(0);
        expect(proc.stdout().trim()).toBe(runtime);
      } finally {
        dir.remove();
      }
    });
  }
});

const etcd = programOrSkip("etcd", "testkit's etcd fixture test");
describe.skipIf(!etcd)("etcd fixture", () => {
  it("starts a v2-enabled etcd on loopback and stops it", async () => {
    const cluster = await startEtcd();
    try {
      const member = cluster.members[0]!;
      expect(member.clientUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const res = await fetch(`${member.clientUrl}/v2/keys/testkit`, {
        method: "PUT",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: "value=ok",
      });
      expect(res.status).toBe(201);
    } finally {
      await cluster.stop();
    }
    expect(cluster.members[0]!.process.hasExited()).toBe(true);
  });
});

const nats = programOrSkip("nats-server", "testkit's nats fixture test");
describe.skipIf(!nats)("nats fixture", () => {
  it("starts nats-server on loopback and stops it", async () => {
    const server = await startNats();
    expect(server.url).toMatch(/^nats:\/\/127\.0\.0\.1:\d+$/);
    await server.stop();
    expect(server.process.hasExited()).toBe(true);
  });
});
