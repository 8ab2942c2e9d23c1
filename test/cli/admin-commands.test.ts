import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SignalClient } from '../../src/client/signal-client.js';
import { ensureBuilt, killAll, runCli, startServe } from './cli-helpers.js';
import { RedisProcess, requireRedis } from '../helpers/redis-process.js';

beforeAll(() => ensureBuilt(), 180_000);
afterEach(killAll);

async function register(url: string, msg: Record<string, unknown>) {
  const c = await SignalClient.connect(url);
  try {
    return await c.request({ type: 'register', ...msg }, 'registered');
  } finally {
    c.terminate();
  }
}

describe('keys through a server (--url)', () => {
  it('creates a key that registers workers in its room, lists it without the secret, revokes it', async () => {
    const serve = await startServe(['--port', '0', '--host', '127.0.0.1', '--auth', 'keys', '--operator-token', 'op-secret']);
    const target = ['--url', serve.http, '--operator-token', 'op-secret'];
    const created = await runCli(['keys', 'create', '--room', 'lab-1', '--name', 'gpu-node', '--json', ...target]);
    expect(created.code, created.stderr).toBe(0);
    const key = JSON.parse(created.stdout) as { id: string; key: string; room_id: string };
    expect(key.key).toMatch(/^slp_[0-9a-f]{12}_/);
    expect(key.room_id).toBe('lab-1');
    expect((await register(serve.url, { api_key: key.key, peer_id: 'w1' })).room_id).toBe('lab-1');

    const listed = await runCli(['keys', 'list', '--json', ...target]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).not.toContain(key.key.slice('slp_'.length + 12 + 1));
    expect((JSON.parse(listed.stdout) as { keys: { id: string }[] }).keys.map((k) => k.id)).toEqual([key.id]);

    expect((await runCli(['keys', 'revoke', key.id, ...target])).code).toBe(0);
    expect((await register(serve.url, { api_key: key.key, peer_id: 'w2' })).code).toBe('AUTH_FAILED');
    expect((await runCli(['keys', 'revoke', 'ffffffffffff', ...target])).code).toBe(1);
  });

  it('exits 1 without the operator token, 2 without a target', async () => {
    const serve = await startServe(['--port', '0', '--host', '127.0.0.1', '--auth', 'keys', '--operator-token', 'op-secret']);
    const refused = await runCli(['keys', 'list', '--url', serve.http]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/operator-token/);
    expect((await runCli(['keys', 'list'])).code).toBe(2);
  });
});

describe.runIf(requireRedis())('keys and room create through Redis', () => {
  const redis = new RedisProcess();
  beforeAll(async () => {
    await redis.start();
  });
  afterAll(async () => {
    await redis.stop();
  });

  it('room create makes a token room that serve --rooms token accepts, and keys create a key for it', async () => {
    const prefix = `admin${process.pid}:`;
    const store = ['--redis', redis.url, '--prefix', prefix];
    const serve = await startServe(['--port', '0', '--host', '127.0.0.1', '--rooms', 'token', '--auth', 'keys', ...store]);
    const room = await runCli(['room', 'create', 'lab-9', '--expires', '1h', '--json', ...store]);
    expect(room.code, room.stderr).toBe(0);
    const { room_id, token } = JSON.parse(room.stdout) as { room_id: string; token: string };
    expect(room_id).toBe('lab-9');
    expect((await runCli(['room', 'create', 'lab-9', ...store])).code).toBe(1);

    const created = await runCli(['keys', 'create', '--room', 'lab-9', '--name', 'n', '--expires', '30d', '--json', ...store]);
    const key = JSON.parse(created.stdout) as { key: string; expires_at: string; schema_version: number };
    expect(key.schema_version).toBe(1);
    expect(Date.parse(key.expires_at)).toBeGreaterThan(Date.now() + 29 * 86400_000);
    expect((await register(serve.url, { api_key: key.key, peer_id: 'worker' })).room_id).toBe('lab-9');
    // A JWT-less client with the room token but no key is refused in --auth keys; the token alone is not a credential.
    expect((await register(serve.url, { room_id, token, peer_id: 'c' })).code).toBe('AUTH_FAILED');
    const keys = await runCli(['keys', 'list', ...store]);
    expect(keys.stdout).toMatch(/lab-9/);
  });
});
