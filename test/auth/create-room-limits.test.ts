import { describe, expect, it } from 'vitest';
import { CREATE_ROOM_RATE } from '../../src/server/operator-actions.js';
import { AdminError, RedisAdmin } from '../../src/admin/admin-target.js';
import { MemoryBackend } from '../../src/state/memory/memory-backend.js';
import { MemoryStore } from '../../src/state/memory/memory-store.js';
import type { ApiKeyRecord, RoomRecord } from '../../src/state/state-backend.js';
import { startServer } from '../helpers/harness.js';
import { useRedisCluster } from '../helpers/cluster.js';
import { requireRedis } from '../helpers/redis-process.js';
import type { SignalingServer } from '../../src/server/signaling-server.js';
import {
  createRoom,
  dial,
  expectRegistered,
  forEachBackend,
  freshRoom,
  http,
  legit,
  now,
  OPERATOR,
  portOf,
  sleep,
  useJwks,
  WAIT,
} from './support.js';

/**
 * Issue 12, findings 2 to 4: POST /create-room is rate-limited, refused where rooms are open, and
 * validates `expires_in` before anything is written (Redis writes the room atomically, with its
 * expiry); API key lifetimes are bounded; expired records do not pile up in memory.
 */

const jwks = useJwks();
const DAY = 86_400;

interface Reply {
  status: number;
  body: Record<string, unknown>;
  retryAfter: string | null;
}

async function postCreateRoom(server: SignalingServer, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Reply> {
  const res = await fetch(`http://127.0.0.1:${portOf(server)}/create-room`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(WAIT),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {}, retryAfter: res.headers.get('retry-after') };
}

/** More requests than the burst allows: the bucket refills by one every 10 s, far slower than this loop. */
const flood = CREATE_ROOM_RATE.burst + 5;

forEachBackend((make) => {
  it('with --rooms open, /create-room is 409 ROOMS_OPEN for everyone and creates nothing', async () => {
    const [s0] = await make({ operatorToken: OPERATOR });
    const room = freshRoom();
    for (const headers of [{}, { authorization: `Bearer ${OPERATOR}` }] as Record<string, string>[]) {
      const res = await postCreateRoom(s0!, { room_id: room }, headers);
      expect(res.status, JSON.stringify(res.body)).toBe(headers.authorization ? 409 : 401);
      if (res.status === 409) {
        expect(res.body).toMatchObject({ code: 'ROOMS_OPEN', error: expect.stringMatching(/rooms are open/) });
      }
      expect(res.body).not.toHaveProperty('token');
    }
    expect(await s0!.state.getRoom(room)).toBeNull();
    // Any room id can be joined as it is.
    await legit(s0!, { room_id: room, peer_id: 'a' });
  });

  it('is rate-limited per client address: 429 with Retry-After past the burst; the operator token is exempt', async () => {
    const [open] = await make({ rooms: 'token' }, 1);
    const statuses: number[] = [];
    let limited: Reply | null = null;
    for (let i = 0; i < flood; i++) {
      const res = await postCreateRoom(open!, {});
      statuses.push(res.status);
      if (res.status === 429) limited ??= res;
    }
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(CREATE_ROOM_RATE.burst);
    expect(statuses.at(-1)).toBe(429);
    expect(limited!.body).toMatchObject({ code: 'RATE_LIMITED' });
    expect(Number(limited!.retryAfter)).toBeGreaterThanOrEqual(1);

    const [guarded] = await make({ rooms: 'token', operatorToken: OPERATOR }, 1);
    for (let i = 0; i < flood; i++) {
      const res = await postCreateRoom(guarded!, {}, { authorization: `Bearer ${OPERATOR}` });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    }
  });

  it('is rate-limited per credential subject, whatever address it comes from; other subjects are not affected', async () => {
    const [s0] = await make({ rooms: 'token', auth: 'jwt', jwt: jwks.config(), trustProxy: true }, 1);
    const mallory = await jwks.token('mallory');
    const statuses: number[] = [];
    for (let i = 0; i < flood; i++) {
      const res = await postCreateRoom(s0!, {}, { authorization: `Bearer ${mallory}`, 'x-forwarded-for': `10.1.${i}.7` });
      statuses.push(res.status);
    }
    expect(statuses.at(-1)).toBe(429);
    const alice = await postCreateRoom(s0!, {}, { authorization: `Bearer ${await jwks.token('alice')}`, 'x-forwarded-for': '10.2.0.1' });
    expect(alice.status, JSON.stringify(alice.body)).toBe(200);
  });

  it('expires_in with a fraction of a millisecond works (rounded) or is 400; either way the id stays usable', async () => {
    const [s0, s1] = await make({ rooms: 'token' });
    const room = freshRoom();
    const res = await postCreateRoom(s0!, { room_id: room, expires_in: 1.0001 });
    expect([200, 400], JSON.stringify(res.body)).toContain(res.status);
    if (res.status === 200) {
      expect(Math.abs((res.body.expires_at as number) - (now() + 1))).toBeLessThanOrEqual(2);
      await legit(s1!, { room_id: room, peer_id: 'a', token: res.body.token });
    }
    await sleep(1200);
    const again = await createRoom(s1!, { room_id: room });
    const client = await dial(s0!);
    await expectRegistered(client, { room_id: room, peer_id: 'b', token: again.token });
  });

  it('expires_in out of range (non-finite in JSON terms, too large, not a number) is 400 and creates nothing', async () => {
    const [s0] = await make({ rooms: 'token' });
    const room = freshRoom();
    for (const expires_in of [1e308, 31 * DAY, 0.5, -1, '60', null]) {
      const res = await postCreateRoom(s0!, { room_id: room, expires_in });
      expect(res.status, `${expires_in}: ${JSON.stringify(res.body)}`).toBe(400);
    }
    expect(await s0!.state.getRoom(room)).toBeNull();
  });

  it('API key expires_in is bounded: 1e308, over 365 days, zero, negative or not a number is 400; 365 days and none work', async () => {
    const [s0] = await make({ auth: 'keys', operatorToken: OPERATOR });
    const room = freshRoom();
    for (const expires_in of [1e308, 366 * DAY, 0, -5, '30', 1e-9]) {
      const res = await http(portOf(s0!), 'POST', '/admin/keys', { body: { room_id: room, name: 'n', expires_in }, bearer: OPERATOR });
      expect(res.status, `${expires_in}: ${res.text}`).toBe(400);
      expect(res.body).not.toHaveProperty('key');
    }
    const year = await http(portOf(s0!), 'POST', '/admin/keys', { body: { room_id: room, name: 'n', expires_in: 365 * DAY }, bearer: OPERATOR });
    expect(year.status, year.text).toBe(200);
    expect(Math.abs((year.body.expires_at as number) - (now() + 365 * DAY))).toBeLessThanOrEqual(5);
    const forever = await http(portOf(s0!), 'POST', '/admin/keys', { body: { room_id: room, name: 'n' }, bearer: OPERATOR });
    expect(forever.status, forever.text).toBe(200);
    expect(forever.body.expires_at).toBeNull();
    const listed = await http(portOf(s0!), 'GET', '/admin/keys', { bearer: OPERATOR });
    expect((listed.body.keys as unknown[]).length).toBe(2);
  });
});

describe.runIf(requireRedis())('redis: created rooms are written atomically, with their expiry', () => {
  const cluster = useRedisCluster();

  it('the token hash of a created room always has a TTL, also for a fractional expires_in', async () => {
    const server = await startServer({ rooms: 'token' }, { state: cluster.backend() });
    const c = cluster.redis.client();
    try {
      for (const expires_in of [1.0001, 2.5, 60]) {
        const room = freshRoom();
        const res = await postCreateRoom(server, { room_id: room, expires_in });
        expect([200, 400], JSON.stringify(res.body)).toContain(res.status);
        const key = `${cluster.prefix}room:{r:${room}}:token`;
        if (res.status === 200) {
          const pttl = await c.pttl(key);
          expect(pttl, `${expires_in}`).toBeGreaterThan(0);
          expect(pttl).toBeLessThanOrEqual(Math.ceil(expires_in * 1000));
        } else {
          expect(await c.exists(key)).toBe(0);
        }
      }
    } finally {
      c.disconnect();
    }
  });

  it('a room the backend refuses to write leaves nothing behind, so its id can be created afterwards', async () => {
    const backend = cluster.backend();
    const server = await startServer({ rooms: 'token' }, { state: backend });
    const room = freshRoom();
    const bad: RoomRecord = { roomId: room, tokenHash: 'ab'.repeat(32), createdAt: Date.now(), expiresAt: Date.now() + 1000.5, createdBy: null };
    await expect(backend.createRoom(bad)).rejects.toThrow();
    const c = cluster.redis.client();
    try {
      expect(await c.exists(`${cluster.prefix}room:{r:${room}}:token`)).toBe(0);
    } finally {
      c.disconnect();
    }
    await createRoom(server, { room_id: room, expires_in: 60 });
  });

  it('keys create straight to Redis refuses an unbounded lifetime', async () => {
    const admin = await RedisAdmin.open(cluster.redis.url, cluster.prefix);
    try {
      await expect(admin.createApiKey('lab', 'n', 1e308)).rejects.toBeInstanceOf(AdminError);
      await expect(admin.createRoom('lab', 1e308)).rejects.toBeInstanceOf(AdminError);
      expect(await admin.listApiKeys()).toEqual([]);
      const key = await admin.createApiKey('lab', 'n', 30 * DAY);
      expect(key.expires_at).toBeGreaterThan(now() + 29 * DAY);
    } finally {
      await admin.close();
    }
  });
});

describe('memory: expired records are pruned', () => {
  const room = (i: number, expiresAt: number): RoomRecord => ({
    roomId: `r-${i}`,
    tokenHash: 'ab'.repeat(32),
    createdAt: Date.now(),
    expiresAt,
    createdBy: null,
  });

  it('expired room records do not accumulate while rooms keep being created', async () => {
    const store = new MemoryStore();
    const backend = new MemoryBackend(store);
    const total = 20_000;
    for (let i = 0; i < total; i++) {
      expect(await backend.createRoom(room(i, Date.now() + 5))).toBe(true);
      if (i % 1000 === 999) await sleep(10);
    }
    expect(store.roomRecords.size).toBeLessThan(total / 4);
    // A live room is never pruned.
    expect(await backend.createRoom(room(-1, Date.now() + 60_000))).toBe(true);
    for (let i = 0; i < 5000; i++) await backend.createRoom(room(total + i, Date.now() - 1));
    expect(await backend.getRoom('r--1')).not.toBeNull();
  });

  it('API keys expired for more than a day are removed (on access and as keys keep being created)', async () => {
    const store = new MemoryStore();
    const backend = new MemoryBackend(store);
    const key = (id: string, expiresAt: number | null): ApiKeyRecord => ({
      id,
      hash: 'cd'.repeat(32),
      roomId: 'lab',
      name: id,
      createdAt: Date.now() - 3 * DAY * 1000,
      expiresAt,
      revokedAt: null,
      roomCreator: null,
    });
    const longGone = Date.now() - 2 * DAY * 1000;
    await backend.putApiKey(key('old', longGone));
    await backend.putApiKey(key('recent', Date.now() - 1000));
    await backend.putApiKey(key('live', null));
    expect(await backend.getApiKey('old')).toBeNull();
    expect((await backend.listApiKeys()).map((k) => k.id).sort()).toEqual(['live', 'recent']);
    for (let i = 0; i < 10_000; i++) await backend.putApiKey(key(`gone-${i}`, longGone));
    expect(store.apiKeys.size).toBeLessThan(5000);
    expect(await backend.getApiKey('live')).not.toBeNull();
  });
});
