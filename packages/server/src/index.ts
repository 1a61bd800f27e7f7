/**
 * @cairn/server: one Cairn member.
 */
export { type LogFields, type Logger, silentLogger } from "./logger.js";
export * from "./transport/index.js";
