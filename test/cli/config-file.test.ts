import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, killAll, ROOT, runCli, startServe } from './cli-helpers.js';

/** serve --config FILE, --print-config, and the SLEAP_SIGNAL_ environment aliases (issue 17, item 7). */

const dir = mkdtempSync(join(tmpdir(), 'sleap-config-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
type Printed = { settings: Record<string, unknown>; sources: Record<string, string> };

beforeAll(() => ensureBuilt());
afterAll(() => {
  killAll();
  rmSync(dir, { recursive: true, force: true });
});

describe('serve --config', () => {
  it('takes settings from a YAML or JSON file, under environment variables and flags', async () => {
    const yaml = file('a.yaml', 'port: 9001\nhost: 127.0.0.1\nmax-connections: 20000\nheartbeat-interval: 15s\ntrust-proxy: true\nrate-limit: "50:100"\nallowed-origins: [https://a.example, https://b.example]\n');
    const r = await runCli(['serve', '--config', yaml, '--port', '9002', '--print-config'], { env: { MAX_CONNECTIONS: '30000' } });
    expect(r.code, r.stderr).toBe(0);
    const printed = JSON.parse(r.stdout) as Printed;
    expect(printed.settings).toMatchObject({
      port: 9002,
      host: '127.0.0.1',
      'max-connections': 30000,
      'heartbeat-interval': '15000ms',
      'trust-proxy': true,
      'rate-limit': '50:100',
      'allowed-origins': 'https://a.example,https://b.example',
      'max-payload': 1048576,
    });
    expect(printed.sources).toMatchObject({ port: 'cli', 'max-connections': 'env', host: 'config', 'heartbeat-interval': 'config', 'max-payload': 'default' });
    // What --print-config prints loads back as a config file, to the same settings.
    const again = file('again.json', JSON.stringify(printed.settings));
    const reloaded = JSON.parse((await runCli(['serve', '--config', again, '--print-config'])).stdout) as Printed;
    expect(reloaded.settings).toEqual(printed.settings);
  });

  it('a server started from a JSON file listens where the file says', async () => {
    const json = file('b.json', JSON.stringify({ host: '127.0.0.1', port: 0, 'log-format': 'json', 'drain-timeout': '1s' }));
    const serve = await startServe(['--config', json]);
    const health = await fetch(`${serve.http}/health`);
    expect(health.status).toBe(200);
  }, 30_000);

  it('refuses an unknown setting, a bad value or a bad file with exit 2, naming what is wrong', async () => {
    const cases: [string, RegExp][] = [
      [file('c.yaml', 'max-conections: 10\n'), /unknown setting "max-conections"/],
      [file('d.yaml', 'heartbeat-interval: soon\n'), /heartbeat-interval: expected a duration/],
      [file('e.yaml', 'trust-proxy: "yes"\n'), /trust-proxy: expected true or false/],
      [file('f.yaml', 'auth: maybe\n'), /auth: expected one of none, keys, jwt/],
      [file('g.yaml', '- port\n'), /expected an object of settings/],
      [file('h.yaml', 'port: [1\n'), /not valid JSON or YAML/],
      [join(dir, 'missing.yaml'), /no such file/],
    ];
    for (const [path, message] of cases) {
      const r = await runCli(['serve', '--config', path, '--print-config']);
      expect(r.code, path).toBe(2);
      expect(r.stderr).toMatch(message);
    }
  });

  it('never prints a secret: tokens and the password in a Redis URL are redacted', async () => {
    const yaml = file('s.yaml', 'operator-token: OPERATOR-SECRET\nmetrics-token: METRICS-SECRET\nturn-secret: TURN-SECRET\nturn-urls: turn:turn.example.org:3478\nredis: redis://:REDIS-PASSWORD@10.0.0.5:6379\n');
    const r = await runCli(['serve', '--config', yaml, '--print-config']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/OPERATOR-SECRET|METRICS-SECRET|TURN-SECRET|REDIS-PASSWORD/);
    const printed = JSON.parse(r.stdout) as Printed;
    expect(printed.settings).toMatchObject({ 'operator-token': '***', 'metrics-token': '***', 'turn-secret': '***', redis: 'redis://:***@10.0.0.5:6379' });
  });

  it('is checked by the published JSON Schema, which lists exactly the settings serve takes', async () => {
    const r = await runCli(['serve', '--print-config-schema']);
    expect(r.code).toBe(0);
    const published = readFileSync(join(ROOT, 'docs', 'serve-config.schema.json'), 'utf8');
    expect(r.stdout, 'docs/serve-config.schema.json is stale: node bin/sleap-signal.js serve --print-config-schema > docs/serve-config.schema.json').toBe(published);
    const schema = JSON.parse(published) as { properties: Record<string, unknown>; additionalProperties: boolean };
    expect(schema.additionalProperties).toBe(false);
    const printed = JSON.parse((await runCli(['serve', '--print-config', '--redis', 'redis://x:1'])).stdout) as Printed;
    for (const key of Object.keys(printed.settings)) expect(schema.properties, key).toHaveProperty(key);
    expect(schema.properties).not.toHaveProperty('config');
  });
});

describe('SLEAP_SIGNAL_ environment aliases', () => {
  it('every variable may be prefixed, and the prefixed one wins', async () => {
    const r = await runCli(['serve', '--print-config'], { env: { SLEAP_SIGNAL_MAX_CONNECTIONS: '1234', MAX_CONNECTIONS: '999', SLEAP_SIGNAL_PORT: '9005' } });
    expect(r.code, r.stderr).toBe(0);
    const printed = JSON.parse(r.stdout) as Printed;
    expect(printed.settings).toMatchObject({ 'max-connections': 1234, port: 9005 });
    expect(printed.sources).toMatchObject({ 'max-connections': 'env', port: 'env' });
  });
});
