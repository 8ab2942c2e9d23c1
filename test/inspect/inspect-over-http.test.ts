import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, cliEnv, ensureBuilt, killAll, runCli, startServe, within, type CliResult } from '../cli/cli-helpers.js';
import { freshRoom, quiet, registeredPeer, startServer } from '../helpers/harness.js';
import { eventually } from '../helpers/cluster.js';
import { RedisProcess, requireRedis } from '../helpers/redis-process.js';
import { jsonOf, linesOf, rowOf } from './inspect-helpers.js';
import { issueApiKey } from '../../src/admin/records.js';
import { RedisBackend } from '../../src/state/redis/redis-backend.js';
import { peerFromJson, roomFromJson, roomsFromJson, serversFromJson, statsFromJson } from '../../src/inspect/json-input.js';
import { kickJson, peerDetailJson, roomDeleteJson, roomJson, roomsJson, serversJson, statsJson } from '../../src/admin/json-output.js';
import type { SignalingServer } from '../../src/server/signaling-server.js';

/**
 * rooms, room, peer, servers, stats, kick and room delete through a running server (`--url`), on
 * either backend: the server's read-only operator endpoints answer with the documents `-o json`
 * prints, and the CLI draws the same tables from them as from Redis.
 */

const base = (server: SignalingServer, admin = false) => `http://127.0.0.1:${admin ? server.adminAddress!.port : server.address.port}`;

/** `sleap-signal ...args --url URL [--operator-token T]`. */
function viaUrl(url: string, token?: string) {
  return (args: readonly string[]): Promise<CliResult> =>
    runCli([...args, '--url', url, ...(token === undefined ? [] : ['--operator-token', token])], { timeoutMs: 30_000 });
}

async function get(url: string, token?: string): Promise<{ status: number; body: Record<string, any> }> {
  const res = await fetch(url, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

/** A document without what moves between two reads: its own time, ages and durations, heartbeats. */
function still(doc: unknown): unknown {
  if (Array.isArray(doc)) return doc.map(still);
  if (typeof doc !== 'object' || doc === null) return doc;
  const moving = (k: string) => k === 'generated_at' || k.endsWith('_seconds') || k === 'heartbeat_at' || k === 'relay_rate';
  return Object.fromEntries(Object.entries(doc).filter(([k]) => !moving(k)).map(([k, v]) => [k, still(v)]));
}

/** A table without durations, rates and column padding (they move between two reads). */
function timeless(text: string): string {
  return text
    .replace(/\d+(\.\d+)?\/s/g, 'R/s')
    .replace(/\b\d+[smhd]( \d+[smhd])?( ago)?/g, 'T')
    .replace(/ +/g, ' ');
}

/**
 * The document read back (json-input.ts) and written again (json-output.ts), as the CLI would
 * write it from the view: a field renamed, missing or extra on the server's side shows here.
 */
const REWRITE = {
  rooms: (d: unknown) => reparsed(roomsFromJson(d), (v, now) => roomsJson(v, now)),
  room: (d: unknown) => reparsed(roomFromJson(d), (v, now) => roomJson(v.room, v.peers, v.filter, now)),
  peer: (d: unknown) => reparsed(peerFromJson(d), (v, now) => peerDetailJson(v, now)),
  servers: (d: unknown) => reparsed(serversFromJson(d), (v, now) => serversJson(v, now)),
  stats: (d: unknown) => reparsed(statsFromJson(d), (v, now) => statsJson(v, now)),
};

function reparsed<V>(parsed: { ok: true; value: V; generatedAt: number } | { ok: false; error: string }, write: (v: V, now: number) => unknown): unknown {
  if (!parsed.ok) throw new Error(parsed.error);
  return write(parsed.value, parsed.generatedAt);
}

/** The shape of a document: its keys, and the type of each leaf. */
function shape(doc: unknown): unknown {
  if (Array.isArray(doc)) return doc.map(shape);
  if (typeof doc !== 'object' || doc === null) return doc === null ? 'null' : typeof doc;
  return Object.fromEntries(Object.entries(doc).map(([k, v]) => [k, shape(v)]));
}

function expectRoundTrip(kind: keyof typeof REWRITE, doc: Record<string, unknown>): void {
  const again = REWRITE[kind](doc);
  expect(shape(again), `${kind}: the fields of the server's document`).toEqual(shape(doc));
  expect(still(again), `${kind}: the values of the server's document`).toEqual(still(doc));
}

/** Tests that run the CLI many times: on a busy 2-core machine each run takes up to a few seconds. */
const MANY_RUNS = 120_000;

beforeAll(() => ensureBuilt(), 180_000);
afterEach(killAll);

describe('operator commands through a server without Redis (--url)', () => {
  it('rooms, room, peer, servers and stats print the tables and the JSON documents of the server\'s state', async () => {
    const server = await startServer({ version: '9.8.7' });
    const cli = viaUrl(base(server));
    const lab = freshRoom('lab');
    const side = freshRoom('side');
    const alice = await registeredPeer(server, {
      room_id: lab,
      peer_id: 'alice',
      role: 'worker',
      is_admin: true,
      metadata: { tags: ['gpu', 'a100'], properties: { vram: 80, zone: 'eu' } },
    });
    const bob = await registeredPeer(server, { room_id: lab, peer_id: 'bob', role: 'client', presence: true });
    // The most recently used room is listed first: not in the same millisecond.
    await new Promise((r) => setTimeout(r, 5));
    await registeredPeer(server, { room_id: side, peer_id: 'dave', role: 'client' });
    for (let i = 0; i < 5; i++) bob.client.send({ type: 'peer_message', to_peer_id: 'alice', payload: i });
    for (let i = 0; i < 5; i++) await alice.client.next('peer_message');
    const serverId = alice.registered.server_id as string;

    const [roomsDoc, roomsTable, roomDoc, roomTable, workersDoc, peerDoc, peerTable, serversDoc, serversTable, statsDoc, statsTable] = await Promise.all([
      cli(['rooms', '--json']),
      cli(['rooms']),
      cli(['room', lab, '-o', 'json']),
      cli(['room', lab]),
      cli(['room', lab, '--role', 'worker', '--tag', 'gpu', '--json']),
      cli(['peer', 'alice', '--json']),
      cli(['peer', 'alice']),
      cli(['servers', '--json']),
      cli(['servers']),
      cli(['stats', '--json']),
      cli(['stats']),
    ]);

    const rooms = jsonOf(roomsDoc);
    expect(rooms).toMatchObject({ version: 1, indexed: 2, count: 2, truncated: false });
    expect(rooms.rooms.map((r: { room_id: string }) => r.room_id)).toEqual([side, lab]);
    expect(rooms.rooms[1]).toMatchObject({ room_id: lab, peers: 2, roles: { worker: 1, client: 1 }, admin: 'alice', expires_in_seconds: null });
    expect(rooms.rooms[1].age_seconds).toBeLessThan(60);
    expect(Date.parse(rooms.rooms[1].created_at)).toBeLessThanOrEqual(Date.parse(rooms.rooms[1].last_used));
    const roomLines = linesOf(roomsTable);
    expect(roomLines[0]).toMatch(/^ROOM +PEERS +ROLES +AGE +LAST USED +EXPIRES IN$/);
    expect(rowOf(roomLines, lab)).toEqual([lab, '2', 'client 1, worker 1', expect.stringMatching(/^\d+s$/), expect.stringMatching(/^\d+s ago$/), 'never']);
    expect(roomLines.at(-1)).toBe('2 rooms, 3 peers');

    const room = jsonOf(roomDoc);
    expect(room).toMatchObject({ version: 1, room_id: lab, peers: 2, admin: 'alice', count: 2, created_room: null, filters: { role: null, tags: [] } });
    expect(room.peer_list[0]).toMatchObject({
      peer_id: 'alice',
      role: 'worker',
      tags: ['gpu', 'a100'],
      properties: { vram: 80, zone: 'eu' },
      server_id: serverId,
      server_status: 'live',
      admin: true,
      presence: false,
    });
    expect(room.peer_list[1]).toMatchObject({ peer_id: 'bob', role: 'client', presence: true, admin: false });
    expect(JSON.stringify(room)).not.toContain(alice.registered.session_token as string);
    const labLines = linesOf(roomTable);
    expect(labLines[0]).toMatch(new RegExp(`^room ${lab} · 2 peers \\(client 1, worker 1\\) · admin alice · created \\d+s ago · expires in never$`));
    expect(rowOf(labLines, 'alice (admin)')).toEqual(['alice (admin)', 'worker', 'gpu, a100', 'vram=80, zone=eu', serverId, expect.stringMatching(/^\d+s$/)]);
    expect(rowOf(labLines, 'bob')).toEqual(['bob', 'client', '-', '-', serverId, expect.stringMatching(/^\d+s$/)]);
    // Filters are applied by the server, and said in the document.
    expect(jsonOf(workersDoc)).toMatchObject({ peers: 2, count: 1, filters: { role: 'worker', tags: ['gpu'] }, peer_list: [{ peer_id: 'alice' }] });

    const peer = jsonOf(peerDoc);
    expect(peer).toMatchObject({ version: 1, peer_id: 'alice', room_id: lab, server: { server_id: serverId, status: 'live', host: '127.0.0.1', port: server.address.port, version: '9.8.7' } });
    const peerText = linesOf(peerTable).join('\n');
    expect(peerText).toMatch(new RegExp(`^instance +${serverId} \\(live\\) at 127\\.0\\.0\\.1:${server.address.port}$`, 'm'));
    expect(peerText).toMatch(new RegExp(`^connected +${peer.connected_at.replace(/\./g, '\\.')} \\(\\d+s ago\\)$`, 'm'));

    const servers = jsonOf(serversDoc);
    expect(servers).toMatchObject({ count: 1, live: 1, late: 0, dead: 0 });
    expect(servers.servers[0]).toMatchObject({ server_id: serverId, status: 'live', connections: 3, peers: 3, held_peers: 3, relayed_total: 5, heartbeat_at: null });
    expect(rowOf(linesOf(serversTable), serverId).slice(0, 6)).toEqual([serverId, 'live', `127.0.0.1:${server.address.port}`, '3', '3', '9.8.7']);

    expect(jsonOf(statsDoc)).toMatchObject({
      instances: { live: 1, late: 0, dead: 0, total: 1 },
      connections: 3,
      rooms: 2,
      peers: 3,
      largest_room: { room_id: lab, peers: 2 },
      relayed_total: 5,
    });
    const statText = linesOf(statsTable).join('\n');
    expect(statText).toMatch(/^instances +1 live, 0 late, 0 dead$/m);
    expect(statText).toMatch(new RegExp(`^largest room +${lab} \\(2 peers\\)$`, 'm'));
    expect(statText).toMatch(/^messages relayed +[\d.,]+\/s \(5 since the instances started\)$/m);

    // What the CLI printed is the endpoint's document, exactly as json-output.ts writes it.
    const endpoint = await get(`${base(server)}/admin/rooms/${encodeURIComponent(lab)}`);
    expect(endpoint.status).toBe(200);
    expect(still(endpoint.body)).toEqual(still(room));
    expectRoundTrip('rooms', rooms);
    expectRoundTrip('room', room);
    expectRoundTrip('peer', peer);
    expectRoundTrip('servers', servers);
    expectRoundTrip('stats', jsonOf(statsDoc));
  }, MANY_RUNS);

  it('kick and room delete go through /delete-peer and /delete-peers-and-room, with the reason', async () => {
    const server = await startServer();
    const cli = viaUrl(base(server));
    const room = freshRoom('kick');
    const victim = await registeredPeer(server, { room_id: room, peer_id: 'victim' });
    const watcher = await registeredPeer(server, { room_id: room, peer_id: 'watcher', presence: true });

    const kicked = jsonOf(await cli(['kick', 'victim', '--reason', 'bye from ops', '--json']));
    expect(Object.keys(kicked)).toEqual(Object.keys(kickJson({ peerId: '', roomId: '', serverId: '', connectionId: '', reason: '', instanceNotified: true }, 0)));
    expect(kicked).toMatchObject({ deleted: 'victim', room_id: room, server_id: victim.registered.server_id, reason: 'bye from ops', instance_notified: true });
    expect(kicked.connection_id).toMatch(/:\d+$/);
    expect(await within(victim.client.closed, 5000, 'close of the kicked peer')).toEqual({ code: 1000, reason: 'bye from ops' });
    expect(await watcher.client.next('peer_left')).toEqual({ type: 'peer_left', peer_id: 'victim', reason: 'kicked' });
    expect((await quiet(watcher.client, 200)).filter((m) => m.type === 'peer_left')).toEqual([]);

    const again = await cli(['kick', 'victim']);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe('sleap-signal: peer "victim" not found\n');

    const other = await registeredPeer(server, { room_id: room, peer_id: 'other' });
    const deleted = await cli(['room', 'delete', room, '--reason', 'maintenance']);
    expect(linesOf(deleted)).toEqual([`deleted room ${room}: 2 peers removed (watcher, other)`]);
    for (const p of [watcher, other]) expect(await within(p.client.closed, 5000, 'close of a peer of the deleted room')).toEqual({ code: 1000, reason: 'maintenance' });
    const gone = await cli(['room', room]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toBe(`sleap-signal: room "${room}" not found\n`);

    // The JSON form of room delete has the fields of the Redis one.
    const last = freshRoom('last');
    await registeredPeer(server, { room_id: last, peer_id: 'last-one' });
    const doc = jsonOf(await cli(['room', 'delete', last, '--json']));
    expect(Object.keys(doc)).toEqual(Object.keys(roomDeleteJson({ roomId: '', peers: [], roomRemoved: true }, 0)));
    expect(doc).toMatchObject({ room_id: last, deleted_peers: ['last-one'], room_removed: true, peers: [{ peer_id: 'last-one', instance_notified: true }] });
  }, MANY_RUNS);

  it('--watch polls the server: one JSON document per line until Ctrl-C', async () => {
    const server = await startServer();
    const room = freshRoom('watched');
    await registeredPeer(server, { room_id: room, peer_id: 'w-1' });
    const child = spawn(process.execPath, [BIN, 'room', room, '--watch', '--interval', '0.3', '-o', 'json', '--url', base(server)], {
      cwd: ROOT,
      env: cliEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await eventually(() => out, (o) => o.split('\n').filter(Boolean).length >= 2, 20_000, 100);
      await registeredPeer(server, { room_id: room, peer_id: 'w-2' });
      await eventually(() => out, (o) => o.includes('"w-2"'), 20_000, 100);
    } finally {
      child.kill('SIGINT');
    }
    expect(await within(exited, 10_000, 'exit of the watch on SIGINT')).toBe(0);
    const docs = out
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { room_id: string; count: number });
    expect(docs[0]).toMatchObject({ room_id: room, count: 1 });
    expect(docs.at(-1)).toMatchObject({ room_id: room, count: 2 });
  }, MANY_RUNS);

  it('lists a created room nobody joined yet with --all, and shows it', async () => {
    const server = await startServer({ rooms: 'token', operatorToken: 'op' });
    const cli = viaUrl(base(server), 'op');
    const created = await runCli(['room', 'create', 'lab-created', '--expires', '1h', '--json', '--url', base(server), '--operator-token', 'op']);
    expect(created.code, created.stderr).toBe(0);
    const [active, all, shown] = await Promise.all([cli(['rooms', '--json']), cli(['rooms', '--all', '--json']), cli(['room', 'lab-created'])]);
    expect(jsonOf(active).rooms).toEqual([]);
    expect(jsonOf(all).rooms).toMatchObject([{ room_id: 'lab-created', peers: 0, roles: {} }]);
    expect(jsonOf(all).rooms[0].expires_in_seconds).toBeGreaterThan(3500);
    expect(linesOf(shown)[0]).toMatch(/^room lab-created · 0 peers · admin - · created \d+s ago · expires in (59m|1h) .*· created room, token expires in/);
    expect(JSON.stringify(jsonOf(await cli(['room', 'lab-created', '--json'])))).not.toMatch(/token_hash|tokenHash/);
  }, MANY_RUNS);
});

describe('the operator token guards the read endpoints', () => {
  it('without it (or with a wrong one) the endpoints answer 401 and the commands exit 1 saying so', async () => {
    const server = await startServer({ operatorToken: 'op-secret' });
    await registeredPeer(server, { room_id: freshRoom('guarded'), peer_id: 'guarded-peer' });
    const url = base(server);
    for (const path of ['/admin/rooms', '/admin/rooms/x', '/admin/peers/guarded-peer', '/admin/servers', '/admin/stats']) {
      expect((await get(`${url}${path}`)).status, path).toBe(401);
      expect((await get(`${url}${path}`, 'wrong')).status, path).toBe(401);
      expect((await get(`${url}${path}`, 'op-secret')).status, path).toBe(path === '/admin/rooms/x' ? 404 : 200);
    }
    expect((await fetch(`${url}/admin/rooms`, { method: 'POST', headers: { authorization: 'Bearer op-secret' } })).status).toBe(405);

    const [none, wrong, right] = await Promise.all([viaUrl(url)(['rooms']), viaUrl(url, 'wrong')(['servers', '--json']), viaUrl(url, 'op-secret')(['peer', 'guarded-peer'])]);
    expect(none.code).toBe(1);
    expect(none.stderr).toBe('sleap-signal: GET /admin/rooms: not allowed (give --operator-token)\n');
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/refused the operator token \(check --operator-token\)/);
    expect(wrong.stdout).toBe('');
    expect(right.code, right.stderr).toBe(0);
    // OPERATOR_TOKEN works as for keys.
    const fromEnv = await runCli(['stats', '--url', url], { env: { OPERATOR_TOKEN: 'op-secret' } });
    expect(fromEnv.code, fromEnv.stderr).toBe(0);
  }, MANY_RUNS);

  it('with authentication on and no operator token, nobody may read them: a valid credential is not enough', async () => {
    const server = await startServer({ auth: 'keys' });
    const room = freshRoom('keyed');
    const { key } = await issueApiKey(server.state, room, 'worker', null);
    await registeredPeer(server, { api_key: key, peer_id: 'worker' });
    for (const path of ['/admin/rooms', `/admin/rooms/${room}`, '/admin/peers/worker', '/admin/servers', '/admin/stats']) {
      expect((await get(`${base(server)}${path}`)).status, path).toBe(401);
      expect((await get(`${base(server)}${path}`, key)).status, path).toBe(401);
    }
    const r = await viaUrl(base(server), key)(['room', room]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/refused the operator token/);
  }, MANY_RUNS);

  it('with --admin-port they are served on the admin port only; the main port says where to look', async () => {
    const server = await startServer({ adminPort: 0, operatorToken: 'op' });
    await registeredPeer(server, { room_id: freshRoom('admin'), peer_id: 'admin-peer' });
    expect((await get(`${base(server)}/admin/rooms`, 'op')).status).toBe(404);
    const wrongPort = await viaUrl(base(server), 'op')(['rooms']);
    expect(wrongPort.code).toBe(1);
    expect(wrongPort.stderr).toMatch(/GET \/admin\/rooms: not found on .* \(a server with --admin-port serves it on that port only/);
    const rightPort = await viaUrl(base(server, true), 'op')(['rooms', '--json']);
    expect(jsonOf(rightPort).count).toBe(1);
  }, MANY_RUNS);
});

describe('the quick start: serve without Redis, then read it with --url', () => {
  it('serve with the memory backend answers rooms --url; without --url or Redis the command says how', async () => {
    const serve = await startServe(['--port', '0', '--host', '127.0.0.1']);
    const empty = await runCli(['rooms', '--url', serve.http]);
    expect(linesOf(empty)).toEqual(['no active rooms']);
    await registeredPeer(serve.url, { room_id: 'lab-7', peer_id: 'gpu-worker-1', role: 'worker' });
    // SLEAP_SIGNAL_URL as for keys; --url wins over --redis (nothing listens on port 1).
    const [fromEnv, both] = await Promise.all([
      runCli(['rooms'], { env: { SLEAP_SIGNAL_URL: serve.http } }),
      runCli(['rooms', '--json', '--redis', 'redis://127.0.0.1:1', '--url', serve.http]),
    ]);
    expect(rowOf(linesOf(fromEnv), 'lab-7').slice(0, 3)).toEqual(['lab-7', '1', 'worker 1']);
    expect(jsonOf(both).rooms).toMatchObject([{ room_id: 'lab-7', peers: 1 }]);
    const nowhere = await runCli(['rooms']);
    expect(nowhere.code).toBe(2);
    expect(nowhere.stderr).toMatch(/no Redis to read: .*or read a running server with --url http:\/\/host:port/);
    const badUrl = await runCli(['rooms', '--url', 'redis://127.0.0.1:6379']);
    expect(badUrl.code).toBe(2);
    expect(badUrl.stderr).toMatch(/--url must be http\(s\):\/\/host:port/);
  }, MANY_RUNS);
});

describe('a reply that is not the expected document', () => {
  let fake: Server;
  let body = '';
  beforeAll(async () => {
    fake = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(body);
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => new Promise<void>((resolve) => fake.close(() => resolve())));

  it('is refused with the first field that is wrong, never printed as a table or as JSON', async () => {
    const url = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
    const good = roomsJson({ indexed: 1, truncated: false, rooms: [{ roomId: 'r', peers: 3, roles: { worker: 3 }, admin: null, createdAt: 1, lastUsed: 2, expiresInMs: 5000 }] }, Date.now());
    const cases: [unknown, RegExp][] = [
      [good, /^$/],
      [{ ...good, rooms: [{ ...good.rooms[0], peers: '3' }] }, /unexpected document: rooms\[0\]\.peers: expected a count, got "3"/],
      [{ ...good, rooms: [{ ...good.rooms[0], room_id: undefined }] }, /rooms\[0\]\.room_id: expected a string, got nothing/],
      [{ ...good, version: 2 }, /a document of version 2; this sleap-signal reads version 1/],
      ['<html>502 Bad Gateway</html>', /version: expected a number, got nothing/],
    ];
    for (const [doc, stderr] of cases) {
      body = typeof doc === 'string' ? doc : JSON.stringify(doc);
      const [table, json] = await Promise.all([runCli(['rooms', '--url', url]), runCli(['rooms', '--json', '--url', url])]);
      if (doc === good) {
        expect(rowOf(linesOf(table), 'r').slice(0, 3)).toEqual(['r', '3', 'worker 3']);
        expect(jsonOf(json)).toEqual(good);
        continue;
      }
      for (const r of [table, json]) {
        expect(r.code, body).toBe(1);
        expect(r.stderr).toMatch(stderr);
        expect(r.stdout).toBe('');
      }
    }
  }, MANY_RUNS);
});

describe.runIf(requireRedis())('two instances on Redis: --url reads what --redis reads', () => {
  const redis = new RedisProcess();
  beforeAll(async () => {
    await redis.start();
  }, 60_000);
  afterAll(async () => {
    await redis.stop();
  });

  it('every read gives the same JSON (times that move aside) and the same table, through either instance', async () => {
    const prefix = `http${process.pid}:`;
    const backend = () => new RedisBackend({ url: redis.url, prefix, reapAfterMs: 6000 });
    const [s1, s2] = await Promise.all([startServer({ operatorToken: 'op' }, { state: backend() }), startServer({ operatorToken: 'op' }, { state: backend() })]);
    const lab = freshRoom('lab');
    const alice = await registeredPeer(s1, { room_id: lab, peer_id: 'alice', role: 'worker', is_admin: true, metadata: { tags: ['gpu'], properties: { vram: 80 } } });
    const bob = await registeredPeer(s2, { room_id: lab, peer_id: 'bob', role: 'client', presence: true });
    await registeredPeer(s2, { room_id: freshRoom('side'), peer_id: 'carol' });
    for (let i = 0; i < 5; i++) bob.client.send({ type: 'peer_message', to_peer_id: 'alice', payload: i });
    for (let i = 0; i < 5; i++) await alice.client.next('peer_message');

    const direct = (args: readonly string[]) => runCli([...args, '--redis', redis.url, '--prefix', prefix], { timeoutMs: 30_000 });
    const reads: string[][] = [['rooms'], ['rooms', '--all', '--limit', '1'], ['room', lab], ['room', lab, '--role', 'client'], ['peer', 'alice'], ['servers'], ['stats']];
    for (const [i, read] of reads.entries()) {
      // Through one instance for the JSON, the other for the table, in turn.
      const [jsonVia, tableVia] = i % 2 === 0 ? [s1, s2] : [s2, s1];
      // A heartbeat between the two reads may move counters: read again until both sides agree.
      await eventually(
        async () => (await Promise.all([direct([...read, '--json']), viaUrl(base(jsonVia), 'op')([...read, '--json'])])).map((x) => still(jsonOf(x))),
        ([r, u]) => JSON.stringify(r) === JSON.stringify(u),
        30_000,
        200,
      ).catch((err: Error) => {
        throw new Error(`${read.join(' ')}: --url and --redis differ: ${err.message}`);
      });
      const [r, u] = await Promise.all([direct(read), viaUrl(base(tableVia), 'op')(read)]);
      expect(u.code, u.stderr).toBe(0);
      expect(timeless(u.stdout), read.join(' ')).toBe(timeless(r.stdout));
    }
    const peer = jsonOf(await viaUrl(base(s2), 'op')(['peer', 'alice', '--json']));
    expect(peer).toMatchObject({ peer_id: 'alice', server_id: alice.registered.server_id, server: { status: 'live', port: s1.address.port } });
    const servers = jsonOf(await viaUrl(base(s1), 'op')(['servers', '--json']));
    expect(servers).toMatchObject({ count: 2, live: 2 });
  }, 240_000);
});
