import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, killAll, runCli, startServe, WsClient, closeAllClients } from '../cli/cli-helpers.js';

/** serve's --ice-servers and --turn-* flags (and their env vars) as an operator meets them. */
beforeAll(() => ensureBuilt(), 180_000);
afterEach(async () => {
  closeAllClients();
  await killAll();
});

describe('serve --ice-servers / --turn-*: bad usage exits 2 and never echoes a secret', () => {
  const cases: { name: string; args: string[]; env?: Record<string, string>; stderr: RegExp }[] = [
    { name: '--ice-servers that is not JSON', args: ['--ice-servers', '[{urls:"pw-hunter2"'], stderr: /--ice-servers.*not JSON/ },
    { name: '--ice-servers with a url field', args: ['--ice-servers', '[{"url":"stun:x","credential":"pw-hunter2"}]'], stderr: /unknown field "url"/ },
    { name: 'ICE_SERVERS with an http URL', args: [], env: { ICE_SERVERS: '[{"urls":"http://x","credential":"pw-hunter2"}]' }, stderr: /stun:, stuns:, turn: or turns:/ },
    { name: '--turn-secret without --turn-urls', args: ['--turn-secret', 'pw-hunter2'], stderr: /--turn-secret needs --turn-urls/ },
    { name: 'TURN_URLS without a secret', args: [], env: { TURN_URLS: 'turn:127.0.0.1:3478' }, stderr: /--turn-urls needs --turn-secret/ },
    { name: '--turn-urls with a stun: URL', args: ['--turn-urls', 'stun:127.0.0.1:3478'], env: { TURN_SECRET: 'pw-hunter2' }, stderr: /--turn-urls.*turn: or turns:/ },
    { name: '--turn-ttl 0', args: ['--turn-ttl', '0', '--turn-urls', 'turn:a:1'], env: { TURN_SECRET: 'pw-hunter2' }, stderr: /--turn-ttl must be at least 1s/ },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const r = await runCli(['serve', '--port', '0', '--host', '127.0.0.1', ...c.args], { env: c.env });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(c.stderr);
      expect(r.stdout + r.stderr).not.toContain('hunter2');
    });
  }
});

describe('the flags win over their env vars, like every other serve option', () => {
  it('--turn-urls and --turn-ttl over TURN_URLS and TURN_TTL', async () => {
    const serve = await startServe(['--host', '127.0.0.1', '--port', '0', '--turn-urls', 'turns:flag.example:5349', '--turn-ttl', '90s'], {
      env: { TURN_SECRET: 'k', TURN_URLS: 'turn:env.example:3478', TURN_TTL: '1h', ICE_SERVERS: '[{"urls":"stun:env.example:3478"}]' },
    });
    const client = await WsClient.open(serve.url);
    const now = Math.floor(Date.now() / 1000);
    const reply = await client.request({ type: 'register', room_id: 'r', peer_id: 'p' }, 'registered');
    const [stun, turn] = reply.ice_servers as { urls: unknown; username: string }[];
    expect(stun).toEqual({ urls: 'stun:env.example:3478' });
    expect(turn!.urls).toEqual(['turns:flag.example:5349']);
    expect(Number(turn!.username.split(':')[0]) - now).toBeGreaterThanOrEqual(90);
    expect(Number(turn!.username.split(':')[0]) - now).toBeLessThanOrEqual(92);
  });
});
