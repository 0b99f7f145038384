/**
 * The logger factory. One root logger is built by the daemon (or a test, or a benchmark) and
 * passed down; each component takes `log.child({ component: '…' })`. No module-level loggers.
 */
import { pino, type Logger as PinoLogger, type DestinationStream, type LevelWithSilent } from 'pino';

/** The logger type every component receives. */
export type Logger = PinoLogger;

/** Options of {@link createLogger}. */
export interface LoggerConfig {
  /** Default: `info`, or the `SHOAL_LOG_LEVEL` environment variable when the caller passes it in. */
  readonly level?: LevelWithSilent;
  /** Base bindings of the root logger (e.g. `{ member: 'm1' }`). */
  readonly base?: Readonly<Record<string, unknown>>;
  /** Where lines go; default stdout. */
  readonly destination?: DestinationStream;
}

/** Paths never written to logs. */
export const REDACT_PATHS: readonly string[] = [
  'req.headers.authorization',
  '*.secret',
  '*.joinToken',
  '*.privateKey',
  '*.password',
];

/** Builds the root logger with Shoal's redaction list. */
export function createLogger(config: LoggerConfig = {}): Logger {
  const options = {
    level: config.level ?? 'info',
    base: { ...(config.base ?? {}) },
    redact: [...REDACT_PATHS],
  };
  return config.destination ? pino(options, config.destination) : pino(options);
}

/** A logger that discards everything (for tests and tools that have nowhere to log). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
