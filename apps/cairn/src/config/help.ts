/**
 * `cairn --help`, shaped like `etcd --help` of etcd 3.4.23: a usage block,
 * then the flags by section, each as `  --flag 'default'` with its help lines
 * indented below. Only the flags Cairn accepts are listed.
 */
import { FLAGS } from "./flags.js";

/**
 * The short usage block. etcd prints it to stderr after a flag-syntax error
 * (and before the full help on `-h`).
 */
export const USAGE_TEXT = `Usage:

  cairn [flags]
    Start a Cairn member (an etcd 3.4 compatible member serving the v2 API).

  cairn --version
    Show the version of Cairn and of the etcd API it implements.

  cairn -h | --help
    Show the help information about Cairn.

  cairn --config-file
    Path to the server configuration file. Note that if a configuration file is provided, other command line flags and environment variables will be ignored.
`;

/** The flag sections, as etcd prints them after the usage block. */
function flagSections(): string {
  const sections: string[] = [];
  let current = "";
  let block: string[] = [];
  const flush = () => {
    if (current !== "") sections.push(`${current}\n${block.join("\n")}\n`);
  };
  for (const flag of FLAGS) {
    if (flag.section === "") continue;
    if (flag.section !== current) {
      flush();
      current = flag.section;
      block = [];
    }
    const shown = flag.bareDefault === true ? flag.defaultText : `'${flag.defaultText}'`;
    block.push(`  --${flag.name} ${shown}`);
    for (const line of flag.help) block.push(`    ${line}`);
  }
  flush();
  return sections.join("\n");
}

/** The full help text (`cairn --help`), ending with a newline. */
export function helpText(): string {
  return `${USAGE_TEXT}\n${flagSections()}\nCAUTIOUS with unsafe flag! It may break the guarantees given by the consensus protocol!\n`;
}
