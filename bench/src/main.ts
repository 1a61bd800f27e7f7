import { existsSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Figure, Suite } from "./suite.js";

const here = dirname(fileURLToPath(import.meta.url));

function suiteNames(): string[] {
  const dir = join(here, "suites");
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(".js"))
    .map((f) => f.slice(0, -3))
    .sort();
}

function formatValue(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toPrecision(4);
}

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  const names = suiteNames();
  if (name === undefined || name === "--help" || name === "-h") {
    process.stderr.write(`usage: pnpm bench <suite> [args]\nsuites: ${names.join(", ")}\n`);
    return name === undefined ? 2 : 0;
  }
  if (!names.includes(name)) {
    process.stderr.write(`bench: unknown suite '${name}' (suites: ${names.join(", ")})\n`);
    return 2;
  }
  const mod = (await import(join(here, "suites", `${name}.js`))) as { default: Suite };
  const suite = mod.default;
  const rows: Figure[] = [];
  process.stderr.write(`== ${suite.name}: ${suite.description}\n`);
  await suite.run({
    args,
    report(figure) {
      const line = { suite: suite.name, ...figure };
      rows.push(figure);
      process.stdout.write(`${JSON.stringify(line)}\n`);
    },
    log(line) {
      process.stderr.write(`${line}\n`);
    },
  });
  const width = Math.max(4, ...rows.map((r) => r.name.length));
  process.stderr.write(`\n${"name".padEnd(width)}  ${"value".padStart(12)}  unit\n`);
  for (const r of rows) {
    process.stderr.write(
      `${r.name.padEnd(width)}  ${formatValue(r.value).padStart(12)}  ${r.unit}\n`,
    );
  }
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
