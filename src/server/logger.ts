import { pino, type Logger, type LevelWithSilent, type DestinationStream } from 'pino';
import pretty from 'pino-pretty';

export type LogFormat = 'json' | 'pretty';
export type { Logger };

/**
 * Structured logs, one JSON line each, on stdout (pretty: human-readable, for a terminal, also
 * one line per event). `destination` replaces stdout (tests).
 */
export function createLogger(level: LevelWithSilent, format: LogFormat, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'sleap-signal' },
    redact: { paths: ['*.token', '*.jwt', '*.id_token', '*.api_key', '*.session_token', '*.payload'], remove: true },
  };
  if (format === 'pretty') {
    // Client text (peer ids, relay targets in error messages) must not forge lines or hide
    // characters: the JSON line is escaped before pino-pretty reads it, and the fields stay on the
    // event's line. (pino-pretty always shows an `err` below, indented; its text is escaped too.)
    const sink = pretty({ destination: destination ?? 1, colorize: destination === undefined && process.stdout.isTTY, singleLine: true });
    return pino({ ...options, hooks: { streamWrite: escapeForTerminal } }, sink);
  }
  return pino(options, destination ?? pino.destination({ fd: 1, sync: false }));
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/**
 * Rewrites one JSON log line so that, once parsed, its strings hold visible escapes instead of
 * line breaks, control characters, bidi controls, zero-width characters and unpaired surrogates:
 * the JSON escape `\n` becomes `\\n` (a backslash and an `n`), and such a character written raw
 * (JSON leaves U+2028, U+202E and their kind as they are) becomes `\\u202e`. The line stays JSON.
 */
export function escapeForTerminal(jsonLine: string): string {
  // The trailing newline that ends the record is the one line break to keep.
  const body = jsonLine.endsWith('\n') ? jsonLine.slice(0, -1) : jsonLine;
  const escaped = body.replace(JSON_ESCAPE_OR_HIDDEN, (match: string, unicode: string | undefined, simple: string | undefined) => {
    if (simple !== undefined) return '"\\/'.includes(simple) ? match : `\\${match}`;
    if (unicode !== undefined) return isHidden(parseInt(unicode, 16)) ? `\\${match}` : match;
    return `\\\\u${match.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
  return body === jsonLine ? escaped : `${escaped}\n`;
}

// Matched left to right, so `\\` (an escaped backslash) is consumed whole and never misread as
// the start of another escape.
const JSON_ESCAPE_OR_HIDDEN =
  /\\u([0-9a-fA-F]{4})|\\(["\\/bfnrt])|[\u0080-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function isHidden(code: number): boolean {
  return (
    code < 0x20 ||
    (code >= 0x7f && code <= 0x9f) ||
    code === 0x061c ||
    (code >= 0x200b && code <= 0x200f) ||
    (code >= 0x2028 && code <= 0x202e) ||
    (code >= 0x2060 && code <= 0x2069) ||
    code === 0xfeff ||
    (code >= 0xd800 && code <= 0xdfff)
  );
}
