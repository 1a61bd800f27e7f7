#!/usr/bin/env node
/**
 * The `cairnctl` binary: the one place that touches the runtime (argv, env,
 * stdio, exit code, child processes, DNS, signals). `node:` modules are used
 * because Node, Bun and Deno all provide them; everything else is `run()`.
 */

import { spawn as spawnChild } from "node:child_process";
import { Resolver } from "node:dns/promises";
import process from "node:process";
import { run } from "./cli.js";
import type { CliIO, SrvRecord } from "./io.js";
import { createTlsFetch } from "./tls-fetch.js";

const interrupt = new AbortController();
process.on("SIGINT", () => interrupt.abort(new Error("interrupted")));

function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on("data", (c: Buffer | string) =>
      chunks.push(typeof c === "string" ? Buffer.from(c) : c),
    );
    stream.once("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    stream.once("error", reject);
  });
}

async function promptPassword(prompt: string): Promise<string> {
  process.stdout.write(prompt);
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    const all = await readAll(stdin);
    return all.split(/\r?\n/)[0] ?? "";
  }
  // Raw mode: no echo, read up to Enter.
  stdin.setRawMode(true);
  stdin.resume();
  return new Promise((resolve) => {
    let text = "";
    const onData = (buf: Buffer) => {
      for (const ch of buf.toString("utf8")) {
        if (ch === "\r" || ch === "\n" || ch === "\u0004") {
          stdin.off("data", onData);
          stdin.setRawMode(false);
          stdin.pause();
          process.stdout.write("\n");
          resolve(text);
          return;
        }
        if (ch === "\u0003") process.exit(130);
        if (ch === "\u007f") text = text.slice(0, -1);
        else text += ch;
      }
    };
    stdin.on("data", onData);
  });
}

/**
 * The resolver for `--discovery-srv`: the system's, or the DNS server in
 * `ETCDCTL_DISCOVERY_SRV_RESOLVER` (`ip[:port]`, a Cairn extension so tests
 * and private zones need no system configuration). Undefined when that
 * variable is not an address.
 */
function srvResolver(address: string): Resolver | undefined {
  // Go's resolver: 5 s per attempt, 2 attempts.
  const resolver = new Resolver({ timeout: 5_000, tries: 2 });
  if (address === "") return resolver;
  try {
    resolver.setServers([address]);
  } catch {
    return undefined;
  }
  return resolver;
}

/** `lookup <name> on <server>: <why>`, Go's DNS error text, from a `node:dns` failure. */
function lookupError(resolver: Resolver, name: string, error: unknown): Error {
  const server = resolver.getServers()[0] ?? "127.0.0.1";
  // getServers() shows the port only when it is not 53; Go always shows it.
  const where = /^\[.*\]:\d+$|^[\d.]+:\d+$/.test(server)
    ? server
    : server.includes(":")
      ? `[${server}]:53`
      : `${server}:53`;
  const code = (error as { code?: string }).code;
  const why = code === "ENOTFOUND" || code === "ENODATA" ? "no such host" : String(code ?? error);
  return new Error(`lookup ${name} on ${where}: ${why}`);
}

const resolverAddress = process.env.ETCDCTL_DISCOVERY_SRV_RESOLVER ?? "";
const resolver = srvResolver(resolverAddress);
if (resolver === undefined) {
  process.stderr.write(
    `ETCDCTL_DISCOVERY_SRV_RESOLVER: expected an IP address with an optional port (e.g. 127.0.0.1:5353), got ${JSON.stringify(resolverAddress)}\n`,
  );
  process.exit(1);
}

async function lookupSrv(name: string): Promise<SrvRecord[]> {
  try {
    return await resolver!.resolveSrv(name);
  } catch (error) {
    throw lookupError(resolver!, name, error);
  }
}

const io: CliIO = {
  env: process.env,
  stdout: (text) => {
    process.stdout.write(text);
  },
  stderr: (text) => {
    process.stderr.write(text);
  },
  stderrIsTTY: process.stderr.isTTY === true,
  readStdin: () => readAll(process.stdin),
  promptPassword,
  resolveSrv: lookupSrv,
  spawn: (command, args, env) =>
    new Promise((resolve, reject) => {
      const child = spawnChild(command, [...args], {
        env: { ...process.env, ...env },
        stdio: ["ignore", "inherit", "inherit"],
      });
      child.once("spawn", () => resolve());
      child.once("error", (error: NodeJS.ErrnoException) => {
        reject(
          new Error(
            error.code === "ENOENT"
              ? `exec: ${JSON.stringify(command)}: executable file not found in $PATH`
              : error.message,
          ),
        );
      });
    }),
  fetchWithTls: createTlsFetch,
  interrupt: interrupt.signal,
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      signal.addEventListener(
        "abort",
        () => {
          clearTimeout(timer);
          resolve();
        },
        { once: true },
      );
    }),
};

const code = await run(process.argv.slice(2), io);
// Let pending writes reach a pipe before exiting (process.exit would cut them).
await new Promise<void>((resolve) => process.stdout.write("", () => resolve()));
await new Promise<void>((resolve) => process.stderr.write("", () => resolve()));
process.exit(code);
