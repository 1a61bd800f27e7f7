#!/usr/bin/env node
/**
 * The discovery service binary (`pnpm discovery <flags>`): flags and
 * `DISC_*` variables -> validated settings -> the service on its embedded
 * store. A bad flag is one line naming it and exit status 2; a failure to
 * start (data dir, port) is one line and status 1.
 */
import { jsonLogger } from "./log.js";
import {
  ConfigError,
  type DiscoveryConfig,
  HelpRequested,
  parseConfig,
  startDiscovery,
  USAGE,
} from "./node.js";

async function main(): Promise<number> {
  let config: DiscoveryConfig;
  try {
    config = parseConfig(process.argv.slice(2), process.env);
  } catch (error) {
    if (error instanceof HelpRequested) {
      process.stdout.write(USAGE);
      return 0;
    }
    if (error instanceof ConfigError) {
      process.stderr.write(`discovery: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const logger = jsonLogger((line) => process.stderr.write(line));
  let service: Awaited<ReturnType<typeof startDiscovery>>;
  try {
    service = await startDiscovery(config, { logger });
  } catch (error) {
    const cause =
      error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : "";
    process.stderr.write(
      `discovery: cannot start: ${error instanceof Error ? error.message : String(error)}${cause}\n`,
    );
    return 1;
  }
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  logger.info("stopping discovery");
  await service.close();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `discovery: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
