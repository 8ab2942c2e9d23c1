import { pino, type Logger, type LevelWithSilent } from 'pino';
import pretty from 'pino-pretty';

export type LogFormat = 'json' | 'pretty';
export type { Logger };

/** Structured logs, one JSON line each, on stdout (pretty: human-readable, for a terminal). */
export function createLogger(level: LevelWithSilent, format: LogFormat): Logger {
  const options = {
    level,
    base: { service: 'sleap-signal' },
    redact: { paths: ['*.token', '*.jwt', '*.id_token', '*.api_key', '*.session_token', '*.payload'], remove: true },
  };
  if (format === 'pretty') return pino(options, pretty({ destination: 1, colorize: process.stdout.isTTY }));
  return pino(options, pino.destination({ fd: 1, sync: false }));
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
