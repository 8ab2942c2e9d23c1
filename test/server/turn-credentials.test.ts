import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { iceServersFor, parseIceServers, parseTurnUrls } from '../../src/server/ice-servers.js';
import { mintTurnCredential } from '../../src/server/turn-credentials.js';
import { connect, freshRoom, registeredPeer, startServer } from '../helpers/harness.js';
import { capturedLogger } from '../helpers/log-lines.js';

const SECRET = 'north-star';
const TURN = { secret: SECRET, urls: ['turn:turn.example.org:3478?transport=udp', 'turns:turn.example.org:5349'], ttlSeconds: 3600 };

describe('mintTurnCredential (TURN REST API, as coturn --use-auth-secret checks it)', () => {
  it('matches a vector computed with openssl', () => {
    // echo -n '1700000000:peer-a' | openssl dgst -sha1 -hmac north-star -binary | base64
    const c = mintTurnCredential(SECRET, 'peer-a', 0, 1_700_000_000_000);
    expect(c).toEqual({ username: '1700000000:peer-a', credential: 'thXP0oma86EPGK+sYlXPPb//+G0=', expiresAt: 1_700_000_000 });
  });

  it('puts the expiry (now + ttl, whole seconds) before the peer id', () => {
    const c = mintTurnCredential(SECRET, 'gpu:worker-1', 86_400, 1_700_000_000_999);
    expect(c.expiresAt).toBe(1_700_086_400);
    expect(c.username).toBe('1700086400:gpu:worker-1');
    expect(c.credential).toBe(createHmac('sha1', SECRET).update('1700086400:gpu:worker-1').digest('base64'));
  });

  it('depends on the secret and on the username', () => {
    const now = 1_700_000_000_000;
    const base = mintTurnCredential(SECRET, 'a', 60, now).credential;
    expect(mintTurnCredential('other', 'a', 60, now).credential).not.toBe(base);
    expect(mintTurnCredential(SECRET, 'b', 60, now).credential).not.toBe(base);
    expect(mintTurnCredential(SECRET, 'a', 61, now).credential).not.toBe(base);
    expect(Buffer.from(base, 'base64')).toHaveLength(20); // a SHA-1 HMAC
  });

  it('hashes non-ASCII peer ids as UTF-8', () => {
    const c = mintTurnCredential(SECRET, 'pëer-日本', 1, 0);
    expect(c.credential).toBe(createHmac('sha1', SECRET).update(Buffer.from('1:pëer-日本', 'utf8')).digest('base64'));
  });
});

describe('parseIceServers (--ice-servers)', () => {
  it('accepts a list of RTCIceServer objects', () => {
    const text = '[{"urls":"stun:stun.example.org:3478"},{"urls":["turn:t.example.org:3478","turns:t.example.org:5349"],"username":"u","credential":"p"}]';
    expect(parseIceServers(text)).toEqual({ ok: true, value: JSON.parse(text) });
    expect(parseIceServers('[]')).toEqual({ ok: true, value: [] });
  });

  it.each([
    ['not JSON', '[{urls:'],
    ['not a list', '{"urls":"stun:x"}'],
    ['an entry that is not an object', '["stun:x"]'],
    ['a missing urls', '[{"username":"u"}]'],
    ['an empty urls list', '[{"urls":[]}]'],
    ['a URL of another scheme', '[{"urls":"http://x"}]'],
    ['a typo in a field name', '[{"url":"stun:x"}]'],
    ['a credential that is not a string', '[{"urls":"turn:x","username":"u","credential":42}]'],
  ])('refuses %s, with a code', (_name, text) => {
    const r = parseIceServers(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.code).toBe('INVALID_ICE_SERVERS');
  });

  it('never quotes a value in its message (it may hold a TURN password)', () => {
    for (const text of ['[{"urls":"turn:x","credential":"hunter2-secret","bogus":1}]', '[{"urls":"turn:x","username":"u","credential":{"k":"hunter2-secret"}}]', '[{"urls":"turn:x" "hunter2-secret"}]']) {
      const r = parseIceServers(text);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.message).not.toContain('hunter2');
    }
  });
});

describe('parseTurnUrls (--turn-urls)', () => {
  it('splits and trims comma-separated turn: and turns: URLs', () => {
    expect(parseTurnUrls(' turn:a:3478?transport=udp , turns:a:5349,')).toEqual({ ok: true, value: ['turn:a:3478?transport=udp', 'turns:a:5349'] });
  });
  it('refuses STUN and other URLs, and an empty list', () => {
    expect(parseTurnUrls('stun:a:3478')).toMatchObject({ ok: false, code: 'INVALID_TURN_URLS' });
    expect(parseTurnUrls('https://a')).toMatchObject({ ok: false, code: 'INVALID_TURN_URLS' });
    expect(parseTurnUrls(' , ')).toMatchObject({ ok: false, code: 'INVALID_TURN_URLS' });
  });
});

describe('iceServersFor', () => {
  const stun = [{ urls: 'stun:stun.example.org:3478' }];
  it('is the configured list itself without TURN', () => {
    expect(iceServersFor({ iceServers: stun, turn: null }, 'a', 0)).toBe(stun);
  });
  it('appends the TURN URLs with a credential minted for the peer', () => {
    const now = 1_700_000_000_000;
    expect(iceServersFor({ iceServers: stun, turn: TURN }, 'a', now)).toEqual([
      ...stun,
      { urls: TURN.urls, ...pick(mintTurnCredential(SECRET, 'a', 3600, now)) },
    ]);
  });
});

describe('registered hands out the ICE servers', () => {
  const stun = [{ urls: 'stun:stun.example.org:3478' }];

  it('in ice_servers and mesh_ice_servers, with a TURN credential per peer that verifies against the secret', async () => {
    const server = await startServer({ iceServers: stun, turn: TURN });
    const room = freshRoom();
    const before = Math.floor(Date.now() / 1000);
    const a = await registeredPeer(server, { room_id: room, peer_id: 'a' });
    const b = await registeredPeer(server, { room_id: room, peer_id: 'b' });
    for (const [peer, { registered }] of [['a', a], ['b', b]] as const) {
      const servers = registered.ice_servers as { urls: unknown; username?: string; credential?: string }[];
      expect(registered.mesh_ice_servers).toEqual(servers);
      expect(servers.slice(0, 1)).toEqual(stun);
      expect(servers).toHaveLength(2);
      const turn = servers[1]!;
      expect(turn.urls).toEqual(TURN.urls);
      const [expiry, id] = [turn.username!.slice(0, turn.username!.indexOf(':')), turn.username!.slice(turn.username!.indexOf(':') + 1)];
      expect(id).toBe(peer);
      expect(Number(expiry)).toBeGreaterThanOrEqual(before + 3600);
      expect(Number(expiry)).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 3600);
      expect(turn.credential).toBe(createHmac('sha1', SECRET).update(turn.username!).digest('base64'));
    }
  });

  it('in compat mode too (registered_auth), and for a generated peer id', async () => {
    const server = await startServer({ turn: TURN, compat: 'sleap-rtc' });
    const client = await connect(server);
    const reply = await client.request({ type: 'register', room_id: freshRoom() }, 'registered_auth');
    expect(reply.type).toBe('registered_auth');
    const [turn] = reply.ice_servers as { username: string }[];
    expect(turn!.username).toMatch(/^\d+:peer-/);
    expect(turn!.username.endsWith(`:${reply.peer_id as string}`)).toBe(true);
    expect(reply.mesh_ice_servers).toEqual(reply.ice_servers);
  });

  it('stays empty without configuration', async () => {
    const server = await startServer();
    const { registered } = await registeredPeer(server, { room_id: freshRoom() });
    expect(registered.ice_servers).toEqual([]);
    expect(registered.mesh_ice_servers).toEqual([]);
  });

  it('never logs the secret or a minted credential', async () => {
    const { logger, lines } = capturedLogger('trace');
    const server = await startServer({ turn: TURN }, { logger });
    const { registered } = await registeredPeer(server, { room_id: freshRoom(), peer_id: 'a' });
    const { credential } = (registered.ice_servers as { credential: string }[])[0]!;
    await server.stop();
    const log = lines.join('\n');
    expect(log).toContain('"registered"');
    expect(log).not.toContain(SECRET);
    expect(log).not.toContain(credential);
  });
});

function pick(c: { username: string; credential: string }) {
  return { username: c.username, credential: c.credential };
}
