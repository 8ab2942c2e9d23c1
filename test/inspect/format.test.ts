import { describe, expect, it } from 'vitest';
import { liveness } from '../../src/admin/cluster-reader.js';
import { clean, cleanJson, displayWidth, layoutColumns } from '../../src/inspect/columns.js';
import { formatDuration, formatProperties, formatRoles, PLAIN, styles } from '../../src/inspect/format.js';
import { CLI_TABLE_MAX_ROWS, grid } from '../../src/inspect/tables.js';
import { ANSI, inPlace, watch } from '../../src/inspect/watch.js';

/** A stream that records what is written, pretending to be a terminal or not. */
function fakeStream(isTTY: boolean, rows?: number) {
  const chunks: string[] = [];
  return { isTTY, rows, chunks, write: (s: string) => (chunks.push(s), true), text: () => chunks.join('') };
}

const SGR = /\u001b\[[0-9;]*m/;

describe('colour styles', () => {
  it('styles are plain text at level 0 and ANSI at level 1', () => {
    expect(styles(0).bad('dead')).toBe('dead');
    expect(styles(1).bad('dead')).toMatch(SGR);
    expect(styles(1).head('ROOM')).toBe('\u001b[1mROOM\u001b[22m');
  });
});

describe('formatting', () => {
  it('formats durations for people', () => {
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(59_999)).toBe('59s');
    expect(formatDuration(183_000)).toBe('3m 03s');
    expect(formatDuration(2 * 3_600_000 + 5 * 60_000)).toBe('2h 05m');
    expect(formatDuration(3 * 86_400_000 + 4 * 3_600_000)).toBe('3d 4h');
    expect(formatDuration(null)).toBe('-');
  });

  it('formats roles and properties', () => {
    expect(formatRoles({ worker: 2, client: 1 })).toBe('worker 2, client 1');
    expect(formatRoles({})).toBe('-');
    expect(formatProperties({ gpu: 'a100', vram: 80, ok: true })).toBe('gpu=a100, vram=80, ok=true');
    expect(formatProperties({ long: 'x'.repeat(100) }, 20)).toBe(`long=${'x'.repeat(14)}…`);
  });

  it('escapes control characters a client could put in its ids or metadata', () => {
    expect(clean('evil\u001b[2Jpeer\n')).toBe('evil\\x1b[2Jpeer\\x0a');
    expect(clean('\u009bcsi')).toBe('\\x9bcsi');
    expect(formatProperties({ 'k\u001b': 'v\u0007' })).toBe('k\\x1b=v\\x07');
    expect(cleanJson(JSON.stringify({ a: '\u001b\u009b' }, null, 2))).toBe('{\n  "a": "\\u001b\\x9b"\n}');
  });

  it('measures display width without colour codes, wide characters as two columns', () => {
    expect(displayWidth('\u001b[1mROOM\u001b[22m')).toBe(4);
    expect(displayWidth('研究室')).toBe(6);
    expect(displayWidth('café')).toBe(4);
    expect(displayWidth('e\u0301')).toBe(1);
  });
});

describe('tables', () => {
  const head = ['ROOM', 'PEERS', 'ROLES'];
  const rows = (n: number) => Array.from({ length: n }, (_, i) => [`room-${i}`, String(i * 7), i % 2 ? 'worker 1' : 'client 2, worker 1']);

  it('lays long lists out exactly as cli-table3 lays out short ones', () => {
    for (const st of [PLAIN, styles(1)]) {
      const sample = [...rows(30), ['研究室', '3', 'ünïcödé 1']];
      expect(grid(head, sample, st, ['left', 'right'], 'columns')).toBe(grid(head, sample, st, ['left', 'right'], 'cli-table3'));
    }
  });

  it('lays out 10,000 rows in well under a second', () => {
    const many = rows(10_000);
    expect(many.length).toBeGreaterThan(CLI_TABLE_MAX_ROWS);
    const started = performance.now();
    const text = grid(head, many, PLAIN, ['left', 'right']);
    const ms = performance.now() - started;
    const lines = text.split('\n');
    expect(lines).toHaveLength(10_001);
    expect(lines[0]).toBe('ROOM       PEERS  ROLES');
    expect(lines[10_000]).toBe('room-9999  69993  worker 1');
    expect(ms).toBeLessThan(1000);
  });

  it('columns never leave trailing spaces', () => {
    expect(layoutColumns([['a', 'bb'], ['ccc', '']], ['left', 'left'])).toBe('a    bb\nccc');
  });
});

describe('instance liveness', () => {
  const now = 1_000_000;
  it('is live while heartbeats come on time, late after two missed ones, dead once the key expired', () => {
    // reapAfter 15 s: beats every 5 s, the key has reapAfter - age to live.
    expect(liveness(now - 4_000, 11_000, now)).toBe('live');
    expect(liveness(now - 9_000, 6_000, now)).toBe('live');
    expect(liveness(now - 11_000, 4_000, now)).toBe('late');
    expect(liveness(now - 16_000, -2, now)).toBe('dead');
  });
});

describe('watch', () => {
  it('redraws in place on a terminal: cursor home, lines cleared, rest cleared, cursor restored', async () => {
    const out = fakeStream(true, 40);
    const stop = new AbortController();
    let n = 0;
    await watch(
      async () => {
        if (++n === 3) stop.abort();
        return `frame ${n}\n`;
      },
      { intervalMs: 100, out, json: false, styles: PLAIN, signal: stop.signal },
    );
    const text = out.text();
    expect(text.startsWith(ANSI.hideCursor + ANSI.noWrap + ANSI.clearScreen)).toBe(true);
    expect(text.endsWith(ANSI.wrap + ANSI.showCursor)).toBe(true);
    expect(text.split(ANSI.home)).toHaveLength(3);
    expect(text).toContain(`frame 1${ANSI.clearLine}\n${ANSI.clearBelow}`);
    expect(text).toContain(`frame 2${ANSI.clearLine}`);
    expect(text).toMatch(/every 0\.1s · \d\d:\d\d:\d\d · Ctrl-C to stop/);
  });

  it('cuts a frame to the terminal height', () => {
    const frame = inPlace(Array.from({ length: 50 }, (_, i) => `line ${i}`).join('\n'), 10);
    const lines = frame.replace(ANSI.home, '').split('\n');
    expect(lines.filter((l) => l.startsWith('line'))).toHaveLength(8);
    // Fits the screen with the cursor's line to spare, so the terminal never scrolls.
    expect(lines.length - 1).toBeLessThanOrEqual(9);
    expect(frame).toContain('… 42 more lines');
  });

  it('appends frames without escape codes when not on a terminal, and one line per document with --json', async () => {
    for (const json of [false, true]) {
      const out = fakeStream(false);
      const stop = new AbortController();
      let n = 0;
      await watch(
        async () => {
          if (++n === 2) stop.abort();
          return json ? JSON.stringify({ n }) : `frame ${n}\n`;
        },
        { intervalMs: 50, out, json, styles: PLAIN, signal: stop.signal },
      );
      expect(out.text()).not.toMatch(/\u001b/);
      if (json) expect(out.text()).toBe('{"n":1}\n');
      else expect(out.text()).toMatch(/^every 0\.05s · .*\nframe 1\n$/);
    }
  });

  it('fails on an error in the first frame; shows later errors and keeps going', async () => {
    const out = fakeStream(false);
    await expect(
      watch(
        async () => {
          throw new Error('room "x" not found');
        },
        { intervalMs: 50, out, json: false, styles: PLAIN, signal: new AbortController().signal },
      ),
    ).rejects.toThrow('room "x" not found');

    const stop = new AbortController();
    const err = fakeStream(false);
    let n = 0;
    await watch(
      async () => {
        n++;
        if (n === 2) throw new Error('Connection is closed.');
        if (n === 3) stop.abort();
        return `{"n":${n}}`;
      },
      { intervalMs: 30, out, json: true, styles: PLAIN, signal: stop.signal, err },
    );
    expect(out.text()).toBe('{"n":1}\n');
    expect(err.text()).toBe('sleap-signal: Connection is closed. (retrying)\n');
  });
});
