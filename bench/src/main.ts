/**
 * `pnpm bench <suite|all> [options]`: runs benchmark suites, prints one JSON
 * object per figure on stdout and readable tables on stderr, and writes the
 * result (figures, Cairn/etcd ratios, machine and versions) as JSON and
 * Markdown under `bench/results/`.
 */
import { existsSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { stopAll } from "@cairn/testkit";
import { machineInfo } from "./lib/machine.js";
import { OPTIONS_HELP, parseOptions } from "./lib/options.js";
import {
  figureRows,
  type ResultDocument,
  ratioRows,
  ratios,
  textTable,
  writeResults,
} from "./lib/results.js";
import { stopAllClusters } from "./lib/systems.js";
import type { Figure, Suite } from "./suite.js";

const here = dirname(fileURLToPath(import.meta.url));

/** The order `all` runs the side-by-side suites in; other suites follow by name. */
const ALL_ORDER = ["http", "watch", "recovery", "memory"];

function suiteNames(): string[] {
  const dir = join(here, "suites");
  if (!existsSync(dir)) return [];
  const names = readdirSync(dir)
    .filter((f) => f.endsWith(".js"))
    .map((f) => f.slice(0, -3));
  const rank = (n: string) => (ALL_ORDER.includes(n) ? ALL_ORDER.indexOf(n) : ALL_ORDER.length);
  return names.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/** The harness's own flags, removed before a suite sees its arguments. */
interface HarnessFlags {
  save: boolean;
  resultsDir: string;
  suiteArgs: string[];
}

function harnessFlags(args: readonly string[]): HarnessFlags {
  // Quick smoke runs are not results worth keeping unless asked for.
  const flags: HarnessFlags = {
    save: !args.includes("--quick"),
    resultsDir: join(here, "..", "results"),
    suiteArgs: [],
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--no-save") flags.save = false;
    else if (a === "--save") flags.save = true;
    else if (a === "--results-dir") flags.resultsDir = args[++i] ?? flags.resultsDir;
    else if (a.startsWith("--results-dir=")) flags.resultsDir = a.slice("--results-dir=".length);
    else flags.suiteArgs.push(a);
  }
  return flags;
}

/** The runtime of Cairn's members; a suite reports bad options itself. */
function memberRuntime(suiteArgs: readonly string[]) {
  try {
    return parseOptions(suiteArgs).runtime;
  } catch {
    return "node";
  }
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const names = suiteNames();
  if (name === undefined || name === "--help" || name === "-h") {
    process.stderr.write(
      `usage: pnpm bench <suite|all> [options]\nsuites: ${names.join(", ")}\n${OPTIONS_HELP}\n`,
    );
    return name === undefined ? 2 : 0;
  }
  if (name !== "all" && !names.includes(name)) {
    process.stderr.write(`bench: unknown suite '${name}' (suites: ${names.join(", ")}, all)\n`);
    return 2;
  }
  const flags = harnessFlags(rest);
  const startedAt = new Date().toISOString();
  const machine = machineInfo(memberRuntime(flags.suiteArgs));
  process.stderr.write(
    `bench: ${machine.cores} cores (${machine.cpuModel}), ${machine.memoryGiB} GiB, load ${machine.loadAverage};` +
      ` node ${machine.versions.node}, etcd ${machine.versions.etcd},` +
      ` Cairn ${machine.versions.cairn} under ${machine.versions.cairnRuntime}, ${machine.versions.wrk}\n`,
  );
  const figures: (Figure & { suite: string })[] = [];
  const failures: { suite: string; error: string }[] = [];
  for (const suiteName of name === "all" ? names : [name]) {
    const mod = (await import(join(here, "suites", `${suiteName}.js`))) as { default: Suite };
    const suite = mod.default;
    process.stderr.write(`\n== ${suite.name}: ${suite.description}\n`);
    try {
      await suite.run({
        args: flags.suiteArgs,
        report(figure) {
          const line = { suite: suite.name, ...figure };
          figures.push(line);
          process.stdout.write(`${JSON.stringify(line)}\n`);
        },
        log(line) {
          process.stderr.write(`${line}\n`);
        },
      });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      failures.push({ suite: suite.name, error: message });
      process.stderr.write(`!!! bench: suite ${suite.name} failed: ${message}\n`);
    } finally {
      // A suite that threw halfway must not leave a member behind for the next.
      await stopAllClusters();
    }
  }
  if (figures.length > 0) process.stderr.write(`\n${textTable(figureRows(figures))}\n`);
  const ratioList = ratios(figures);
  if (ratioList.length > 0) {
    process.stderr.write(`\nCairn/etcd:\n${textTable(ratioRows(ratioList))}\n`);
  } else if (figures.some((f) => f.system === "etcd")) {
    process.stderr.write("\n!!! no Cairn/etcd ratios: Cairn was not measured in this run\n");
  }
  if (flags.save && figures.length > 0) {
    const doc: ResultDocument = {
      suite: name,
      startedAt,
      args: flags.suiteArgs,
      machine,
      figures,
      ratios: ratioList,
      failures,
    };
    const [json, md] = writeResults(flags.resultsDir, doc);
    process.stderr.write(`\nbench: wrote ${json}\nbench: wrote ${md}\n`);
  }
  return failures.length > 0 ? 1 : 0;
}

// An interrupted run stops what it started: members (gracefully, removing
// their data directories), then any other child (wrk) still running.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    process.stderr.write(`\nbench: ${signal}: stopping the members and generators it started\n`);
    void Promise.all([stopAllClusters(), stopAll()]).finally(() => process.exit(130));
  });
}

process.exitCode = await main(process.argv.slice(2));
