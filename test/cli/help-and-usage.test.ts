import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, SERVE_OPTIONS, ensureBuilt, helpEntries, killAll, runCli } from './cli-helpers.js';

beforeAll(() => ensureBuilt(), 180_000);
afterEach(killAll);

describe('sleap-signal --help / --version', () => {
  it('--help lists every command and exits 0', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    const commands = helpEntries(r.stdout, 'Commands');
    for (const name of ['serve', 'smoke', 'schema']) {
      expect(commands.has(name), `command ${name} missing from --help:\n${r.stdout}`).toBe(true);
      expect(commands.get(name)!.length, `command ${name} has no description`).toBeGreaterThan(name.length + 15);
    }
    expect(r.stdout).toMatch(/--version/);
  });

  it('serve --help lists every option with its env var and default', async () => {
    const r = await runCli(['serve', '--help']);
    expect(r.code).toBe(0);
    const options = helpEntries(r.stdout, 'Options');
    for (const { flag, env, defaultShown } of SERVE_OPTIONS) {
      const entry = options.get(flag);
      expect(entry, `${flag} missing from serve --help:\n${r.stdout}`).toBeDefined();
      if (env !== null) expect(entry, `${flag} does not name its env var`).toContain(`env: ${env})`);
      else expect(entry, `${flag} has no env var`).not.toContain('env:');
      if (defaultShown !== null) expect(entry, `${flag} default`).toContain(`default: ${defaultShown}`);
      else expect(entry, `${flag} should have no default`).not.toContain('default:');
    }
    // Nothing undocumented either: every option shown (but help) is in the list above.
    const known = new Set([...SERVE_OPTIONS.map((o) => o.flag), '--help']);
    expect([...options.keys()].filter((k) => !known.has(k))).toEqual([]);
  });

  it('smoke --help lists --url (with SMOKE_URL), --timeout and --json', async () => {
    const r = await runCli(['smoke', '--help']);
    expect(r.code).toBe(0);
    const options = helpEntries(r.stdout, 'Options');
    expect(options.get('--url')).toContain('env: SMOKE_URL');
    expect(options.get('--timeout')).toContain('default: 5s');
    expect(options.has('--json')).toBe(true);
  });

  it('schema --help lists --out', async () => {
    const r = await runCli(['schema', '--help']);
    expect(r.code).toBe(0);
    expect(helpEntries(r.stdout, 'Options').has('--out')).toBe(true);
  });

  it('--version and -V print package.json version', async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const r = await runCli([flag]);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`${version}\n`);
    }
  });
});

describe('bad usage exits 2 with a message on stderr', () => {
  const cases: { name: string; args: string[]; env?: Record<string, string>; stderr: RegExp }[] = [
    { name: 'unknown command', args: ['bogus'], stderr: /unknown command 'bogus'/ },
    { name: 'unknown option', args: ['--bogus'], stderr: /unknown option '--bogus'/ },
    { name: 'unknown serve option', args: ['serve', '--bogus'], stderr: /unknown option '--bogus'/ },
    { name: 'serve --port abc', args: ['serve', '--port', 'abc'], stderr: /--port.*abc/ },
    { name: 'serve --port 70000', args: ['serve', '--port', '70000'], stderr: /--port.*70000/ },
    { name: 'serve --compat bogus', args: ['serve', '--compat', 'bogus'], stderr: /--compat.*bogus.*sleap-rtc|sleap-rtc.*bogus/ },
    { name: 'serve --rate-limit x', args: ['serve', '--rate-limit', 'x'], stderr: /--rate-limit/ },
    { name: 'serve --drain-timeout soon', args: ['serve', '--drain-timeout', 'soon'], stderr: /--drain-timeout/ },
    { name: 'serve --redis with a URL that is not redis://', args: ['serve', '--port', '0', '--redis', 'http://x'], stderr: /redis:\/\/ or rediss:\/\//, },
    { name: 'serve with a REDIS_URL that is not redis://', args: ['serve', '--port', '0'], env: { REDIS_URL: 'localhost:6379' }, stderr: /redis:\/\/ or rediss:\/\// },
    { name: 'serve --auth jwt without a key source', args: ['serve', '--port', '0', '--auth', 'jwt'], stderr: /needs exactly one of/ },
    { name: 'serve with Cognito settings but no --auth jwt', args: ['serve', '--port', '0', '--cognito-region', 'eu-west-1'], stderr: /--auth is not jwt/ },
    { name: 'smoke without --url', args: ['smoke'], stderr: /--url/ },
    { name: 'smoke with an http:// URL', args: ['smoke', '--url', 'http://127.0.0.1:1'], stderr: /ws:\/\/ or wss:\/\// },
    { name: 'smoke with three URLs', args: ['smoke', '--url', 'ws://a', '--url', 'ws://b', '--url', 'ws://c'], stderr: /one or two --url/ },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const r = await runCli(c.args, { env: c.env ?? {}, timeoutMs: 10_000 });
      expect(r.signal, 'the process had to be killed: it did not exit on bad usage').toBeNull();
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(c.stderr);
      // Bad usage never gets as far as starting a server.
      expect(r.stdout).not.toMatch(/"event":"listening"/);
    });
  }
});
