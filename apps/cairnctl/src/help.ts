/**
 * Help texts laid out byte for byte like urfave/cli v1's templates as etcdctl
 * 3.4.23 prints them (columns padded to the widest cell + 2, a `   ` line
 * after a command's options), with `cairnctl` where etcdctl prints its name.
 */

import type { FlagDef } from "./flags.js";

/** A command as the help texts and the dispatcher see it. */
export interface CommandSpec {
  readonly name: string;
  readonly aliases?: readonly string[];
  readonly usage: string;
  readonly argsUsage?: string;
  readonly description?: string;
  readonly flags: readonly FlagDef[];
  readonly subcommands?: readonly CommandSpec[];
}

function pad(cells: readonly [string, string][]): string[] {
  const width = Math.max(...cells.map(([left]) => left.length)) + 2;
  return cells.map(([left, right]) => `${left.padEnd(width)}${right}`);
}

/** urfave's rendering of one flag: `--output simple, -o simple` and its usage. */
function flagCells(flags: readonly FlagDef[]): [string, string][] {
  return flags.map((f) => {
    const placeholderMatch = /`([^`]*)`/.exec(f.usage);
    const placeholder = f.kind === "bool" ? "" : (placeholderMatch?.[1] ?? "value");
    const left = f.names
      .map((n) => `${n.length > 1 ? "--" : "-"}${n}${placeholder === "" ? "" : ` ${placeholder}`}`)
      .join(", ");
    let usage = f.usage.replace(/`([^`]*)`/, "$1");
    if (!f.hideDefault) {
      if (f.kind === "string" && (f.defaultValue ?? "") !== "")
        usage += ` (default: ${JSON.stringify(f.defaultValue)})`;
      if (f.kind === "int" || f.kind === "duration")
        usage += ` (default: ${f.defaultValue ?? "0"})`;
    }
    return [left, usage];
  });
}

/** The top-level help (`cairnctl`, `cairnctl --help`, `cairnctl help`). */
export function appHelp(
  program: string,
  version: string,
  commands: readonly CommandSpec[],
  flags: readonly FlagDef[],
): string {
  const cmdLines = pad([
    ...commands.map((c): [string, string] => [[c.name, ...(c.aliases ?? [])].join(", "), c.usage]),
    ["help, h", "Shows a list of commands or help for one command"],
  ]);
  const flagLines = pad(flagCells(flags));
  return (
    `NAME:\n   ${program} - A simple command line client for etcd.\n\n` +
    `USAGE:\n   ${program} [global options] command [command options] [arguments...]\n\n` +
    `VERSION:\n   ${version}\n\n` +
    `COMMANDS:\n${cmdLines.map((l) => `   ${l}\n`).join("")}\n` +
    `GLOBAL OPTIONS:\n${flagLines.map((l) => `   ${l}\n`).join("")}`
  );
}

/** Help of one command (`cairnctl set --help`, `cairnctl help set`). */
export function commandHelp(helpName: string, c: CommandSpec): string {
  const visible = c.flags.filter((f) => f.names[0] !== "help");
  let out = `NAME:\n   ${helpName} - ${c.usage}\n\nUSAGE:\n   ${helpName}`;
  if (visible.length > 0) out += " [command options]";
  out += ` ${c.argsUsage !== undefined && c.argsUsage !== "" ? c.argsUsage : "[arguments...]"}`;
  if (c.description !== undefined) out += `\n\nDESCRIPTION:\n   ${c.description}`;
  if (visible.length > 0) {
    out += `\n\nOPTIONS:\n   ${pad(flagCells(visible)).join("\n   ")}\n   `;
  }
  return `${out}\n`;
}

/** Help of a command that has subcommands (`cairnctl member`). */
export function subcommandHelp(helpName: string, c: CommandSpec, helpFlag: FlagDef): string {
  const subs = pad((c.subcommands ?? []).map((s): [string, string] => [s.name, s.usage]));
  return (
    `NAME:\n   ${helpName} - ${c.usage}\n\n` +
    `USAGE:\n   ${helpName} command [command options] [arguments...]\n\n` +
    `COMMANDS:\n${subs.map((l) => `   ${l}\n`).join("")}\n` +
    `OPTIONS:\n   ${pad(flagCells([helpFlag])).join("\n   ")}\n   \n`
  );
}
