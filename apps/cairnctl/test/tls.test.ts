import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  etcdProgram,
  findProgram,
  freePorts,
  startProcess,
  stopAll,
  type TempDir,
  tempDir,
  waitFor,
} from "@cairn/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PATIENT, runCairnctl, runProgram } from "./support/run.js";

const openssl = findProgram("openssl");
if (openssl === undefined)
  console.warn("!!! SKIPPED: cairnctl TLS tests need 'openssl', which is not installed");

/** A throw-away CA, a server certificate for 127.0.0.1 and a client certificate. */
function makeCerts(dir: string): void {
  const ssl = (...args: string[]) =>
    execFileSync(openssl!.path, args, { cwd: dir, stdio: "ignore" });
  writeFileSync(
    join(dir, "ext.cnf"),
    "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n",
  );
  ssl(
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "ca-key.pem",
    "-out",
    "ca.pem",
    "-days",
    "2",
    "-subj",
    "/CN=cairn-test-ca",
  );
  for (const name of ["server", "client"]) {
    ssl(
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      `${name}-key.pem`,
      "-out",
      `${name}.csr`,
      "-subj",
      `/CN=${name}`,
    );
    ssl(
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca-key.pem",
      "-CAcreateserial",
      "-out",
      `${name}.pem`,
      "-days",
      "2",
      "-extfile",
      "ext.cnf",
    );
  }
}

describe.skipIf(openssl === undefined || etcdProgram() === undefined)(
  "cairnctl with TLS client files",
  () => {
    let dir: TempDir;
    let url: string;
    beforeAll(async () => {
      dir = tempDir("cairnctl-tls-");
      makeCerts(dir.path);
      const [client, peer] = await freePorts(2);
      url = `https://127.0.0.1:${client}`;
      const f = (n: string) => join(dir.path, n);
      const proc = startProcess(etcdProgram()!.path, {
        name: "etcd-tls",
        args: [
          "--name",
          "tls1",
          "--data-dir",
          f("data"),
          "--enable-v2=true",
          "--listen-client-urls",
          url,
          "--advertise-client-urls",
          url,
          "--listen-peer-urls",
          `http://127.0.0.1:${peer}`,
          "--initial-advertise-peer-urls",
          `http://127.0.0.1:${peer}`,
          "--initial-cluster",
          `tls1=http://127.0.0.1:${peer}`,
          "--cert-file",
          f("server.pem"),
          "--key-file",
          f("server-key.pem"),
          "--client-cert-auth",
          "--trusted-ca-file",
          f("ca.pem"),
        ],
      });
      await waitFor(
        () =>
          /serving client traffic securely|ready to serve client requests/.test(proc.stderr()) &&
          /published/.test(proc.stderr()),
        {
          timeoutMs: 20_000,
          what: "etcd with TLS serving",
        },
      );
    }, 60_000);
    afterAll(async () => {
      await stopAll();
      dir?.remove();
    });

    it("talks https with --ca-file/--cert-file/--key-file (and the ETCDCTL_* variables)", async () => {
      const f = (n: string) => join(dir.path, n);
      const files = [
        ...PATIENT,
        "--ca-file",
        f("ca.pem"),
        "--cert-file",
        f("client.pem"),
        "--key-file",
        f("client-key.pem"),
      ];
      expect(await runCairnctl([...files, "--endpoints", url, "set", "/tls", "ok"])).toEqual({
        stdout: "ok\n",
        stderr: "",
        code: 0,
      });
      expect(
        await runCairnctl([...PATIENT, "--endpoints", url, "get", "/tls"], {
          ETCDCTL_CA_FILE: f("ca.pem"),
          ETCDCTL_CERT_FILE: f("client.pem"),
          ETCDCTL_KEY_FILE: f("client-key.pem"),
        }),
      ).toEqual({ stdout: "ok\n", stderr: "", code: 0 });
      const members = await runCairnctl([...files, "--endpoints", url, "member", "list"]);
      expect(members.stdout).toContain(`clientURLs=${url} isLeader=true`);
    });

    it("fails cleanly without a client certificate, with etcdctl's exit code", async () => {
      const f = (n: string) => join(dir.path, n);
      const r = await runCairnctl(["--ca-file", f("ca.pem"), "--endpoints", url, "get", "/tls"]);
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(
        /^Error: {2}client: etcd cluster is unavailable or misconfigured; error #0: /,
      );
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
      const etcdctl = findProgram("etcdctl");
      if (etcdctl !== undefined) {
        const ref = await runProgram(
          etcdctl.path,
          ["--ca-file", f("ca.pem"), "--endpoints", url, "get", "/tls"],
          { ETCDCTL_API: "2" },
        );
        expect(r.code).toBe(ref.code);
      }
    });
  },
);
