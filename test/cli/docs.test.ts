import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, SERVE_OPTIONS, ensureBuilt, helpEntries, killAll, runCli } from './cli-helpers.js';

/**
 * The README and docs/protocol.md are checked against what the built CLI reports, so that they
 * cannot silently fall behind the code.
 */

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const PROTOCOL = readFileSync(join(ROOT, 'docs', 'protocol.md'), 'utf8');

/** The markdown table rows of a section (rows whose first cell starts with `match`). */
function tableRows(markdown: string, match: RegExp): string[][] {
  return markdown
    .split('\n')
    .filter((line) => line.startsWith('|') && match.test(line))
    .map((line) =>
      line
        .slice(1, -1)
        .split('|')
        .map((cell) => cell.trim()),
    );
}

const unquote = (s: string) => s.replace(/^"|"$/g, '');
const uncode = (s: string) => s.replace(/^`|`$/g, '');

beforeAll(() => ensureBuilt(), 180_000);
afterEach(killAll);

describe('README', () => {
  it('configuration table lists every serve option with the env var and default of serve --help', async () => {
    const help = helpEntries((await runCli(['serve', '--help'])).stdout, 'Options');
    const section = README.split('## Configuration of `serve`')[1]?.split('\n## ')[0] ?? '';
    expect(section, 'README has no "Configuration of `serve`" section').not.toBe('');
    const rows = tableRows(section, /^\| `--/);
    const documented = new Map(rows.map((r) => [/^`(--[\w-]+)/.exec(r[0]!)![1]!, r]));
    const shown = [...help.keys()].filter((k) => k !== '--help');
    expect([...documented.keys()].sort(), 'README configuration table vs serve --help').toEqual(shown.sort());
    for (const { flag, env, defaultShown } of SERVE_OPTIONS) {
      const row = documented.get(flag)!;
      expect(uncode(row[1]!), `${flag} env var in README`).toBe(env ?? 'none');
      if (env !== null) expect(help.get(flag), `${flag} env var in serve --help`).toContain(`env: ${env})`);
      const readmeDefault = uncode(row[2]!);
      if (defaultShown === null) expect(readmeDefault, `${flag} default in README`).toBe('none');
      else expect(readmeDefault, `${flag} default in README`).toBe(unquote(defaultShown));
    }
  });

  it('closes every code fence it opens, so no prose renders as code', () => {
    for (const [name, text] of [['README.md', README], ['docs/protocol.md', PROTOCOL]] as const) {
      let open: number | null = null;
      text.split('\n').forEach((line, i) => {
        if (!line.startsWith('```')) return;
        // An opening fence names a language or nothing; a closing one is bare.
        if (open === null) open = i + 1;
        else if (line.trim() === '```') open = null;
        else throw new Error(`${name}:${i + 1}: a fence opens while the one of line ${open} is still open`);
      });
      expect(open, `${name}: the fence of line ${open} is never closed`).toBeNull();
    }
  });

  it('documents every command with an example (or names it under "Coming")', async () => {
    const commands = [...helpEntries((await runCli(['--help'])).stdout, 'Commands').keys()].filter((c) => c !== 'help');
    for (const name of ['serve', 'smoke', 'schema']) expect(commands).toContain(name);
    const coming = /^Coming: .*$/m.exec(README)?.[0] ?? '';
    for (const name of commands) {
      if (coming.includes(`\`${name}\``)) continue;
      expect(README, `README section for ${name}`).toContain(`### \`sleap-signal ${name}\``);
      expect(README, `README example for ${name}`).toMatch(new RegExp(`npx sleap-signal ${name}\\b`));
    }
  });
});

describe('docs/protocol.md', () => {
  it('documents every message type and error code of the generated schema', async () => {
    const schema = JSON.parse((await runCli(['schema'])).stdout) as {
      $defs: Record<string, { properties: { type: { const: string }; code?: { anyOf: { const: string }[] } } }>;
    };
    for (const [name, def] of Object.entries(schema.$defs)) {
      expect(PROTOCOL, `${name} is not mentioned in docs/protocol.md`).toContain(`\`${def.properties.type.const}\``);
    }
    const codes = schema.$defs['server.error']!.properties.code!.anyOf.map((c) => c.const);
    const table = tableRows(PROTOCOL, /^\| `[A-Z_]+`/).map((r) => uncode(r[0]!));
    expect(table, 'error code table of docs/protocol.md vs the codes the server can send').toEqual(codes);
  });

  it('documents every close code the server uses', () => {
    const source = readFileSync(join(ROOT, 'src', 'protocol', 'close-codes.ts'), 'utf8');
    const codes = [...source.matchAll(/^\s+[A-Z_]+: (\d{4}),$/gm)].map((m) => m[1]!);
    expect(codes.length).toBeGreaterThan(5);
    const table = tableRows(PROTOCOL, /^\| \d{4} \|/).map((r) => r[0]!);
    expect(table, 'close code table of docs/protocol.md vs src/protocol/close-codes.ts').toEqual(codes);
  });

  it('documents every serve flag that changes a limit', () => {
    for (const flag of ['--max-payload', '--max-connections', '--max-peers-per-room', '--rate-limit', '--send-buffer-limit', '--heartbeat-interval']) {
      expect(PROTOCOL).toContain(`\`${flag}`);
    }
  });
});
