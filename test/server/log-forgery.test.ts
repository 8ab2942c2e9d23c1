import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, type LogFormat } from '../../src/server/logger.js';

/**
 * Issue 12, finding 3 (logs): a newline in a logged value (a `to_peer_id` ends up in the message
 * of the `error` event, a peer id in its fields) must not forge a second log line with
 * `--log-format pretty`, and bidi or zero-width characters must show as escapes.
 */

/** A logger of `format` writing into memory; `text()` waits for the writes to land. */
function capture(format: LogFormat) {
  let out = '';
  const sink = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      out += chunk.toString();
      done();
    },
  });
  const logger = createLogger('info', format, sink);
  return {
    logger,
    text: async () => {
      for (let i = 0; i < 50 && !out.endsWith('\n'); i++) await new Promise((r) => setTimeout(r, 10));
      return out;
    },
  };
}

const FORGED = 'b\n[12:00:00.000] ERROR (sleap-signal): operator token leaked';

describe('pretty logs: one event, one line', () => {
  it('a newline in the message or in a field stays inside the one line of its event', async () => {
    const { logger, text } = capture('pretty');
    logger.info({ event: 'error', code: 'PEER_NOT_FOUND', peerId: `a\r\n${FORGED}`, nested: { to: [FORGED] } }, `peer ${FORGED} is not connected`);
    const out = await text();
    const lines = out.split('\n');
    expect(lines, out).toHaveLength(2);
    expect(lines[1]).toBe('');
    expect(lines[0]).toContain('peer b\\n[12:00:00.000] ERROR (sleap-signal): operator token leaked is not connected');
    expect(lines[0]).toContain('a\\r\\nb\\n[12:00:00.000]');
    expect(lines[0]).toContain('"event":"error"');
  });

  it('bidi overrides, zero-width and C1 control characters are shown as escapes', async () => {
    const { logger, text } = capture('pretty');
    logger.info({ event: 'registered', peerId: 'gpu-worker-1\u200b', role: 'x\u202eyz' }, 'peer \u2066evil\u2069 \u009b31m \u2028 \ufeff');
    const out = await text();
    expect(out).not.toMatch(/[\u0080-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/);
    expect(out).toContain('gpu-worker-1\\u200b');
    expect(out).toContain('x\\u202eyz');
    expect(out).toContain('peer \\u2066evil\\u2069 \\u009b31m \\u2028 \\ufeff');
    expect(out.split('\n')).toHaveLength(2);
  });

  it('an error object is shown indented below its event, its message and stack escaped', async () => {
    const { logger, text } = capture('pretty');
    logger.error({ err: new Error(`boom ${FORGED}`), connectionId: 'c1' }, 'handler failed');
    const out = await text();
    const lines = out.split('\n').filter((l) => l !== '');
    expect(lines[0]).toMatch(/^\[[\d:.]+\] ERROR: handler failed /);
    for (const line of lines.slice(1)) expect(line, out).toMatch(/^\s/);
    expect(out).toContain('boom b\\n[12:00:00.000] ERROR');
  });

  it('ordinary text, backslashes and non-Latin ids are left as they are', async () => {
    const { logger, text } = capture('pretty');
    logger.info({ event: 'registered', peerId: 'gpu-\u{1F680}-研究室', path: 'C:\\tmp' }, 'registered 研究室 \u00e9');
    const out = await text();
    expect(out).toContain('gpu-\u{1F680}-研究室');
    expect(out).toContain('registered 研究室 \u00e9');
    expect(out).toContain('C:\\tmp');
  });
});

describe('JSON logs', () => {
  it('are one line per event, and the values read back exactly', async () => {
    const { logger, text } = capture('json');
    logger.info({ event: 'error', peerId: `a\r\n${FORGED}\u202e` }, `peer ${FORGED} is not connected`);
    const out = await text();
    const lines = out.split('\n');
    expect(lines).toHaveLength(2);
    const parsed = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(parsed.peerId).toBe(`a\r\n${FORGED}\u202e`);
    expect(parsed.msg).toBe(`peer ${FORGED} is not connected`);
  });
});
