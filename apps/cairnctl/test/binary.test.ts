import { readFileSync } from "node:fs";
import {
  type EtcdCluster,
  findProgram,
  freePort,
  programOrSkip,
  RUNTIMES,
  runtimeCommand,
  startEtcd,
  startProcess,
  stopAll,
  waitFor,
} from "@cairn/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VERSION } from "../src/index.js";
import { CAIRNCTL, PATIENT, runCairnctl, runProgram } from "./support/run.js";

describe("the cairnctl binary", () => {
  it("prints its version and the package's version agrees", async () => {
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
      version: string;
    };
    expect(VERSION).toBe(pkg.version);
    const r = await runCairnctl(["--version"]);
    expect(r).toEqual({
      stdout: `cairnctl version: ${VERSION}\nAPI version: 2\n`,
      stderr: "",
      code: 0,
    });
    expect(readFileSync(CAIRNCTL, "utf8").startsWith("#!/usr/bin/env node\n")).toBe(true);
  });

  it("exits 3 on an unknown command, on stderr", async () => {
    expect(await runCairnctl(["nosuchcmd"])).toEqual({
      stdout: "",
      stderr: "No help topic for 'nosuchcmd'\n",
      code: 3,
    });
  });
});

const etcd = programOrSkip("etcd", "cairnctl binary tests against etcd");

describe.skipIf(!etcd)("the cairnctl binary against etcd", () => {
  let server: EtcdCluster;
  beforeAll(async () => {
    server = await startEtcd();
  }, 60_000);
  afterAll(async () => {
    await stopAll();
    await server?.stop();
  });

  it("reads the value from stdin and writes through a pipe", async () => {
    const proc = startProcess("sh", {
      args: [
        "-c",
        `printf 'from stdin' | "${process.execPath}" "${CAIRNCTL}" ${PATIENT.join(" ")} --endpoints ${server.endpoints} set /stdin`,
      ],
    });
    expect(await proc.exited).toBe(0);
    expect(proc.stdout()).toBe("from stdin\n");
  });

  it("exec-watch runs the command with ETCD_WATCH_* for every change, ignores dirs, exits 0 on Ctrl-C", async () => {
    const start = await fetch(`${server.endpoints}/v2/keys/ew/seed`, {
      method: "PUT",
      body: new URLSearchParams({ value: "s" }),
    });
    const index = Number(start.headers.get("x-etcd-index"));
    const proc = startProcess(process.execPath, {
      args: [
        CAIRNCTL,
        ...PATIENT,
        "--endpoints",
        server.endpoints,
        "exec-watch",
        "--after-index",
        String(index),
        "-r",
        "/ew",
        "--",
        "sh",
        "-c",
        'echo "A=$ETCD_WATCH_ACTION K=$ETCD_WATCH_KEY V=$ETCD_WATCH_VALUE MI=$ETCD_WATCH_MODIFIED_INDEX"',
      ],
    });
    const put = (path: string, body: Record<string, string>, query = "") =>
      fetch(`${server.endpoints}/v2/keys${path}${query}`, {
        method: "PUT",
        body: new URLSearchParams(body),
      });
    await put("/ew/a", { value: "v1" });
    await put("/ew/dir", {}, "?dir=true");
    await put("/ew/a", { value: "v2" });
    await fetch(`${server.endpoints}/v2/keys/ew/a`, { method: "DELETE" });
    await waitFor(() => proc.stdout().split("\n").filter(Boolean).length >= 3, {
      timeoutMs: 20_000,
      what: "three command runs",
    });
    const lines = proc.stdout().split("\n").filter(Boolean).sort();
    expect(lines).toEqual([
      `A=delete K=/ew/a V= MI=${index + 4}`,
      `A=set K=/ew/a V=v1 MI=${index + 1}`,
      `A=set K=/ew/a V=v2 MI=${index + 3}`,
    ]);
    expect(proc.stderr()).toBe("Ignored dir /ew/dir change\n");
    expect(await proc.stop("SIGINT", 5_000)).toBe(0);
  });

  it.skipIf(findProgram("etcdctl") === undefined)(
    "exec-watch runs the same commands as etcdctl's, for both argument forms",
    async () => {
      const put = (path: string, query = "", body: Record<string, string> = {}) =>
        fetch(`${server.endpoints}/v2/keys${path}${query}`, {
          method: "PUT",
          body: new URLSearchParams(body),
        });
      const index = Number((await put("/ed/seed", "", { value: "s" })).headers.get("x-etcd-index"));
      const script =
        'echo "$ETCD_WATCH_ACTION $ETCD_WATCH_KEY $ETCD_WATCH_VALUE $ETCD_WATCH_MODIFIED_INDEX"';
      const forms = [
        ["--after-index", String(index), "-r", "/ed", "--", "sh", "-c", script],
        ["--after-index", String(index), "sh", "-c", script, "/ed/a"],
      ];
      const procs = forms.flatMap((form) => [
        startProcess(findProgram("etcdctl")!.path, {
          args: [...PATIENT, "--endpoints", server.endpoints, "exec-watch", ...form],
          env: { ...process.env, ETCDCTL_API: "2" },
        }),
        startProcess(process.execPath, {
          args: [CAIRNCTL, ...PATIENT, "--endpoints", server.endpoints, "exec-watch", ...form],
        }),
      ]);
      await put("/ed/a", "", { value: "v1" });
      await put("/ed/d", "?dir=true");
      await put("/ed/a", "", { value: "v2" });
      const lines = (p: (typeof procs)[0]) => p.stdout().split("\n").filter(Boolean).sort();
      await waitFor(() => procs.every((p) => lines(p).length >= 2), {
        timeoutMs: 20_000,
        what: "both tools ran",
      });
      await new Promise((r) => setTimeout(r, 300));
      const codes = await Promise.all(procs.map((p) => p.stop("SIGINT", 5_000)));
      for (const pair of [0, 2]) {
        const [ref, ours] = [procs[pair]!, procs[pair + 1]!];
        expect(lines(ours)).toEqual(lines(ref));
        expect(ours.stderr()).toBe(ref.stderr());
        expect(codes[pair + 1]).toBe(codes[pair]);
      }
      expect(lines(procs[1]!)).toEqual([`set /ed/a v1 ${index + 1}`, `set /ed/a v2 ${index + 3}`]);
      expect(procs[1]!.stderr()).toBe("Ignored dir /ed/d change\n");
    },
    60_000,
  );

  for (const runtime of RUNTIMES) {
    it(`runs the same under ${runtime} [${runtime}]`, async () => {
      const { command, args } = runtimeCommand(runtime);
      const ctl = (...a: string[]) =>
        runProgram(
          command,
          [...args, CAIRNCTL, ...PATIENT, ...a],
          { HOME: process.env.HOME ?? "/tmp" },
          60_000,
        );
      expect(await ctl("--endpoints", server.endpoints, "set", `/rt/${runtime}`, "yes")).toEqual({
        stdout: "yes\n",
        stderr: "",
        code: 0,
      });
      const json = await ctl(
        "--endpoints",
        server.endpoints,
        "-o",
        "json",
        "get",
        `/rt/${runtime}`,
      );
      expect(json.code).toBe(0);
      expect(json.stdout).toMatch(
        new RegExp(
          `^\\{"action":"get","node":\\{"key":"/rt/${runtime}","value":"yes","nodes":null,`,
        ),
      );
      const port = await freePort();
      expect(await ctl("--endpoints", `http://127.0.0.1:${port}`, "get", "/x")).toEqual({
        stdout: "",
        stderr:
          `Error:  client: etcd cluster is unavailable or misconfigured; error #0: dial tcp 127.0.0.1:${port}: connect: connection refused\n\n` +
          `error #0: dial tcp 127.0.0.1:${port}: connect: connection refused\n\n`,
        code: 2,
      });
    }, 120_000);
  }
});
