/**
 * Structured logging for Cairn: the {@link Logger} interface, a silent
 * implementation for libraries, and the member's JSON-lines logger.
 */
export {
  createJsonLogger,
  type JsonLoggerOptions,
  kebabCase,
  LEVELS,
  type Level,
  type Logger,
  type LogSink,
  silentLogger,
} from "./logger.js";
