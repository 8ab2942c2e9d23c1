import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, cliEnv, ensureBuilt, killAll, startServe, within, type ServeProcess } from '../cli/cli-helpers.js';
import { ClusterReader } from '../../src/admin/cluster-reader.js';
import { KeySpace } from '../../src/state/redis/key-space.js';
import { freshRoom, quiet, registeredPeer } from '../helpers/harness.js';
import { eventually } from '../helpers/cluster.js';
import { RedisProcess, requireRedis } from '../helpers/redis-process.js';
import { inspectCli, jsonOf, linesOf, rowOf } from './inspect-helpers.js';

/**
 * The operator commands against two real `serve --redis` processes with real clients connected:
 * what they show must be what the clients registered, and kick / room delete must act on
 * whichever instance holds the connection.
 */
describe.runIf(requireRedis())('operator commands on a two-instance cluster', () => {
  const redis = new RedisProcess();
  const prefix = `insp${process.pid}:`;
  let s1: ServeProcess;
  let s2: ServeProcess;
  const cli = inspectCli(() => redis.url, prefix);

  beforeAll(async () => {
    ensureBuilt();
    await redis.start();
    // Heartbeats every 2 s; an instance starved of CPU for a moment is not reaped by the other.
    const args = ['--host', '127.0.0.1', '--port', '0', '--redis', redis.url, '--prefix', prefix, '--reap-after', '6s'];
    [s1, s2] = await Promise.all([startServe(args), startServe(args)]);
  }, 120_000);

  afterAll(async () => {
    await killAll();
    await redis.stop();
  });

  it('rooms, room, peer, servers and stats show what the clients registered, as tables and as JSON', async () => {
    const lab = freshRoom('lab');
    const side = freshRoom('side');
    const alice = await registeredPeer(s1.url, {
      room_id: lab,
      peer_id: 'alice',
      role: 'worker',
      is_admin: true,
      metadata: { tags: ['gpu', 'a100'], properties: { vram: 80, zone: 'eu' }, note: 'night shift' },
    });
    const bob = await registeredPeer(s2.url, { room_id: lab, peer_id: 'bob', role: 'worker', metadata: { tags: ['cpu'], properties: { vram: 0 } } });
    const carol = await registeredPeer(s2.url, { room_id: lab, peer_id: 'carol', role: 'client', presence: true });
    const dave = await registeredPeer(s1.url, { room_id: side, peer_id: 'dave', role: 'client' });
    const id1 = alice.registered.server_id as string;
    const id2 = bob.registered.server_id as string;
    expect(id1).not.toBe(id2);
    expect(carol.registered.server_id).toBe(id2);
    expect(dave.registered.server_id).toBe(id1);

    // Relayed messages, across instances, while the stats are read.
    const sender = setInterval(() => {
      for (let i = 0; i < 5; i++) carol.client.send({ type: 'peer_message', to_peer_id: 'alice', payload: i });
    }, 100);
    try {
      // Wait in-process (cheaper than a CLI run per poll) for heartbeats that carry all of it.
      const client = redis.client();
      try {
        const reader = new ClusterReader(client, new KeySpace(prefix));
        await eventually(
          () => reader.stats(),
          (s) => s.connections === 4 && s.relayRate > 0 && s.instances.live === 2,
          15_000,
        );
      } finally {
        client.disconnect();
      }
      const stats = jsonOf(await cli(['stats', '--json']));
      expect(stats).toMatchObject({
        version: 1,
        instances: { live: 2, late: 0, dead: 0, total: 2 },
        connections: 4,
        rooms: 2,
        peers: 4,
        largest_room: { room_id: lab, peers: 3 },
      });
      expect(stats.relayed_total).toBeGreaterThan(0);
      expect(stats.relay_rate).toBeGreaterThan(0);
    } finally {
      clearInterval(sender);
    }

    const [roomsJson, roomsTable, roomJson, roomTable, peerJson, peerTable, serversJson, serversTable, statsTable] = await Promise.all([
      cli(['rooms', '--json']),
      cli(['rooms']),
      cli(['room', lab, '--json']),
      cli(['room', lab]),
      cli(['peer', 'alice', '--json']),
      cli(['peer', 'alice']),
      cli(['servers', '--json']),
      cli(['servers']),
      cli(['stats']),
    ]);

    // rooms
    const rooms = jsonOf(roomsJson);
    expect(rooms).toMatchObject({ version: 1, indexed: 2, count: 2, truncated: false });
    expect(rooms.rooms.map((r: { room_id: string }) => r.room_id).sort()).toEqual([lab, side].sort());
    const labEntry = rooms.rooms.find((r: { room_id: string }) => r.room_id === lab);
    expect(labEntry).toMatchObject({ peers: 3, roles: { worker: 2, client: 1 }, admin: 'alice' });
    expect(Object.keys(labEntry.roles)).toEqual(['worker', 'client']);
    expect(labEntry.age_seconds).toBeGreaterThanOrEqual(0);
    expect(labEntry.age_seconds).toBeLessThan(120);
    expect(labEntry.expires_in_seconds).toBeGreaterThan(7000);
    expect(labEntry.expires_in_seconds).toBeLessThanOrEqual(7200);
    expect(Date.parse(labEntry.created_at)).toBeLessThanOrEqual(Date.parse(labEntry.last_used));
    expect(rooms.rooms.find((r: { room_id: string }) => r.room_id === side)).toMatchObject({ peers: 1, roles: { client: 1 }, admin: null });
    // Piped output carries no colour (FORCE_COLOR would force it: test/cli/conventions.test.ts).
    expect(roomsTable.stdout).not.toMatch(/\u001b/);
    const roomLines = linesOf(roomsTable);
    expect(roomLines[0]).toMatch(/^ROOM +PEERS +ROLES +AGE +LAST USED +EXPIRES IN$/);
    expect(rowOf(roomLines, lab)).toEqual([lab, '3', 'worker 2, client 1', expect.stringMatching(/^\d+s$/), expect.stringMatching(/^\d+s ago$/), expect.stringMatching(/^1h 5\dm$/)]);
    expect(rowOf(roomLines, side).slice(0, 3)).toEqual([side, '1', 'client 1']);
    expect(roomLines.at(-1)).toBe('2 rooms, 4 peers');

    // room
    const room = jsonOf(roomJson);
    expect(room).toMatchObject({ version: 1, room_id: lab, peers: 3, roles: { worker: 2, client: 1 }, admin: 'alice', count: 3, filters: { role: null, tags: [] } });
    expect(room.peer_list.map((p: { peer_id: string }) => p.peer_id)).toEqual(['alice', 'bob', 'carol']);
    expect(room.peer_list[0]).toMatchObject({
      peer_id: 'alice',
      room_id: lab,
      role: 'worker',
      tags: ['gpu', 'a100'],
      properties: { vram: 80, zone: 'eu' },
      metadata: { tags: ['gpu', 'a100'], properties: { vram: 80, zone: 'eu' }, note: 'night shift' },
      server_id: id1,
      server_status: 'live',
      presence: false,
      admin: true,
      subject: null,
    });
    expect(room.peer_list[0].connection_id).toMatch(new RegExp(`^${id1}:\\d+$`));
    expect(room.peer_list[1]).toMatchObject({ peer_id: 'bob', role: 'worker', tags: ['cpu'], properties: { vram: 0 }, server_id: id2, admin: false });
    expect(room.peer_list[2]).toMatchObject({ peer_id: 'carol', role: 'client', tags: [], properties: {}, metadata: {}, server_id: id2, presence: true });
    for (const p of room.peer_list) {
      expect(p.connected_seconds).toBeLessThan(120);
      expect(Math.abs(Date.parse(p.connected_at) - Date.now())).toBeLessThan(120_000);
      // The secret that lets a connection take a peer id over is never shown.
      expect(JSON.stringify(p)).not.toContain(alice.registered.session_token as string);
    }
    const labLines = linesOf(roomTable);
    expect(labLines[0]).toMatch(new RegExp(`^room ${lab} · 3 peers \\(worker 2, client 1\\) · admin alice · created \\d+s ago · expires in 1h 5\\dm$`));
    expect(labLines[2]).toMatch(/^PEER +ROLE +TAGS +PROPERTIES +INSTANCE +CONNECTED FOR$/);
    expect(rowOf(labLines, 'alice (admin)')).toEqual(['alice (admin)', 'worker', 'gpu, a100', 'vram=80, zone=eu', id1, expect.stringMatching(/^\d+s$/)]);
    expect(rowOf(labLines, 'bob')).toEqual(['bob', 'worker', 'cpu', 'vram=0', id2, expect.stringMatching(/^\d+s$/)]);
    expect(rowOf(labLines, 'carol')).toEqual(['carol', 'client', '-', '-', id2, expect.stringMatching(/^\d+s$/)]);

    // peer
    const peer = jsonOf(peerJson);
    expect(peer).toMatchObject({
      version: 1,
      peer_id: 'alice',
      room_id: lab,
      role: 'worker',
      metadata: { tags: ['gpu', 'a100'], properties: { vram: 80, zone: 'eu' }, note: 'night shift' },
      server_id: id1,
      server_status: 'live',
      admin: true,
      server: { server_id: id1, status: 'live', host: '127.0.0.1', port: s1.port },
    });
    expect(peer.connected_at).toBe(room.peer_list[0].connected_at);
    const peerLines = linesOf(peerTable).join('\n');
    expect(peerLines).toMatch(/^peer +alice$/m);
    expect(peerLines).toMatch(new RegExp(`^room +${lab}$`, 'm'));
    expect(peerLines).toMatch(/^tags +gpu, a100$/m);
    // Metadata in full, pretty-printed when it does not fit one line.
    const metadataBlock = peerLines.slice(peerLines.indexOf('metadata'), peerLines.indexOf('\ninstance'));
    expect(JSON.parse(metadataBlock.replace(/^metadata/, ''))).toEqual({ tags: ['gpu', 'a100'], properties: { vram: 80, zone: 'eu' }, note: 'night shift' });
    expect(metadataBlock).toMatch(/^metadata +\{\n +"tags": \[/);
    expect(peerLines).toMatch(new RegExp(`^instance +${id1} \\(live\\) at 127\\.0\\.0\\.1:${s1.port}$`, 'm'));
    expect(peerLines).toMatch(new RegExp(`^connected +${peer.connected_at} \\(\\d+s ago\\)$`, 'm'));
    expect(peerLines).not.toContain(alice.registered.session_token as string);

    // servers
    const servers = jsonOf(serversJson);
    expect(servers).toMatchObject({ version: 1, count: 2, live: 2, late: 0, dead: 0 });
    const byId = new Map(servers.servers.map((s: { server_id: string }) => [s.server_id, s]));
    expect(byId.get(id1)).toMatchObject({ status: 'live', host: '127.0.0.1', port: s1.port, connections: 2, peers: 2, held_peers: 2, version: expect.any(String) });
    expect(byId.get(id2)).toMatchObject({ status: 'live', host: '127.0.0.1', port: s2.port, connections: 2, peers: 2, held_peers: 2 });
    for (const s of servers.servers) {
      expect(s.heartbeat_age_seconds).toBeLessThan(6);
      expect(s.uptime_seconds).toBeGreaterThanOrEqual(0);
      expect(typeof s.relay_rate).toBe('number');
    }
    expect((byId.get(id2) as { relayed_total: number }).relayed_total).toBeGreaterThan(0);
    const serverLines = linesOf(serversTable);
    expect(serverLines[0]).toMatch(/^INSTANCE +STATUS +ADDRESS +CONNECTIONS +PEERS +VERSION +UPTIME +LAST HEARTBEAT +RELAYED$/);
    expect(rowOf(serverLines, id1).slice(0, 5)).toEqual([id1, 'live', `127.0.0.1:${s1.port}`, '2', '2']);
    expect(rowOf(serverLines, id2).slice(0, 5)).toEqual([id2, 'live', `127.0.0.1:${s2.port}`, '2', '2']);
    expect(serverLines.at(-1)).toBe('2 instances: 2 live, 0 late, 0 dead');

    // stats
    const statLines = linesOf(statsTable).join('\n');
    expect(statLines).toMatch(/^instances +2 live, 0 late, 0 dead$/m);
    expect(statLines).toMatch(/^connections +4$/m);
    expect(statLines).toMatch(/^rooms +2$/m);
    expect(statLines).toMatch(/^peers +4$/m);
    expect(statLines).toMatch(new RegExp(`^largest room +${lab} \\(3 peers\\)$`, 'm'));
    expect(statLines).toMatch(/^messages relayed +[\d.,]+\/s \([\d,]+ since the instances started\)$/m);
  });

  it('room --role and --tag filter the peers, in the table and in JSON', async () => {
    const room = freshRoom('filters');
    await registeredPeer(s1.url, { room_id: room, peer_id: 'f-gpu', role: 'worker', metadata: { tags: ['gpu'] } });
    await registeredPeer(s2.url, { room_id: room, peer_id: 'f-cpu', role: 'worker', metadata: { tags: ['cpu'] } });
    await registeredPeer(s2.url, { room_id: room, peer_id: 'f-client', role: 'client', metadata: { tags: ['gpu'] } });
    const ids = (r: { peer_list: { peer_id: string }[] }) => r.peer_list.map((p) => p.peer_id);
    const [workers, gpu, gpuWorkers, anyTag, table] = await Promise.all([
      cli(['room', room, '--role', 'worker', '--json']),
      cli(['room', room, '--tag', 'gpu', '--json']),
      cli(['room', room, '--role', 'worker', '--tag', 'gpu', '--json']),
      cli(['room', room, '--tag', 'cpu', '--tag', 'tpu', '--json']),
      cli(['room', room, '--role', 'worker', '--tag', 'cpu']),
    ]);
    expect(ids(jsonOf(workers))).toEqual(['f-gpu', 'f-cpu']);
    expect(jsonOf(workers)).toMatchObject({ peers: 3, count: 2, filters: { role: 'worker', tags: [] } });
    expect(ids(jsonOf(gpu))).toEqual(['f-gpu', 'f-client']);
    expect(ids(jsonOf(gpuWorkers))).toEqual(['f-gpu']);
    expect(ids(jsonOf(anyTag))).toEqual(['f-cpu']);
    const lines = linesOf(table);
    expect(lines.filter((l) => l.startsWith('f-'))).toHaveLength(1);
    expect(rowOf(lines, 'f-cpu').slice(0, 3)).toEqual(['f-cpu', 'worker', 'cpu']);
    expect(lines.at(-1)).toBe('1 of 3 peers match role=worker, tag=cpu');
  });

  it('kick closes a peer held by the other instance, tells the room "kicked" once, and removes it everywhere', async () => {
    const room = freshRoom('kick');
    const victim = await registeredPeer(s1.url, { room_id: room, peer_id: 'victim', role: 'worker' });
    const remote = await registeredPeer(s2.url, { room_id: room, peer_id: 'watch-remote', presence: true });
    const local = await registeredPeer(s1.url, { room_id: room, peer_id: 'watch-local', presence: true });
    await remote.client.next('peer_joined');

    const kicked = jsonOf(await cli(['kick', 'victim', '--reason', 'bye from ops', '--json']));
    expect(kicked).toMatchObject({
      version: 1,
      deleted: 'victim',
      room_id: room,
      server_id: victim.registered.server_id,
      reason: 'bye from ops',
      instance_notified: true,
    });
    expect(await within(victim.client.closed, 5000, 'close of the kicked peer')).toEqual({ code: 1000, reason: 'bye from ops' });
    for (const w of [remote, local]) {
      expect(await w.client.next('peer_left')).toEqual({ type: 'peer_left', peer_id: 'victim', reason: 'kicked' });
      // Once: the close of the socket is not announced again.
      expect((await quiet(w.client, 300)).filter((m) => m.type === 'peer_left')).toEqual([]);
      const list = await w.client.request({ type: 'discover_peers' }, 'peer_list');
      expect((list.peers as { peer_id: string }[]).map((p) => p.peer_id)).not.toContain('victim');
    }
    const after = await cli(['room', room, '--json']);
    expect(jsonOf(after).peer_list.map((p: { peer_id: string }) => p.peer_id)).toEqual(['watch-remote', 'watch-local']);
    const c = redis.client();
    try {
      expect(await c.exists(`${prefix}peer:{p:victim}`)).toBe(0);
      expect(await c.sismember(`${prefix}server:{s:${victim.registered.server_id as string}}:peers`, 'victim')).toBe(0);
    } finally {
      c.disconnect();
    }

    // The table form, for a peer on the second instance, with the default reason.
    const table = await cli(['kick', 'watch-remote']);
    expect(linesOf(table)).toEqual([`kicked watch-remote from room ${room}: instance ${remote.registered.server_id as string} closes its connection`]);
    expect(await within(remote.client.closed, 5000, 'close of the second kicked peer')).toEqual({ code: 1000, reason: 'removed by an operator' });
    expect(await local.client.next('peer_left')).toEqual({ type: 'peer_left', peer_id: 'watch-remote', reason: 'kicked' });

    // Its last peer kicked, the room is no longer active, but its records live until they expire.
    jsonOf(await cli(['kick', 'watch-local', '--json']));
    await within(local.client.closed, 5000, 'close of the last peer');
    const [active, all, empty] = await Promise.all([cli(['rooms', '--json']), cli(['rooms', '--all', '--json']), cli(['room', room, '--json'])]);
    expect(jsonOf(active).rooms.map((x: { room_id: string }) => x.room_id)).not.toContain(room);
    expect(jsonOf(all).rooms.find((x: { room_id: string }) => x.room_id === room)).toMatchObject({ peers: 0, roles: {} });
    expect(jsonOf(empty)).toMatchObject({ room_id: room, peers: 0, count: 0, peer_list: [] });
  });

  it('room delete closes every peer on both instances and removes the room', async () => {
    const room = freshRoom('doomed');
    const other = freshRoom('kept');
    const p1 = await registeredPeer(s1.url, { room_id: room, peer_id: 'd1', is_admin: true });
    const p2 = await registeredPeer(s2.url, { room_id: room, peer_id: 'd2', presence: true });
    const p3 = await registeredPeer(s2.url, { room_id: room, peer_id: 'd3' });
    const bystander = await registeredPeer(s1.url, { room_id: other, peer_id: 'd-bystander' });

    const r = await cli(['room', 'delete', room]);
    expect(linesOf(r)).toEqual([`deleted room ${room}: 3 peers removed (d1, d2, d3)`]);
    for (const p of [p1, p2, p3]) expect(await within(p.client.closed, 5000, 'close of a peer of the deleted room')).toEqual({ code: 1000, reason: 'removed by an operator' });
    expect(bystander.client.isOpen).toBe(true);

    const [shown, listed] = await Promise.all([cli(['room', room]), cli(['rooms', '--json'])]);
    expect(shown.code).toBe(1);
    expect(shown.stderr).toBe(`sleap-signal: room "${room}" not found\n`);
    const roomIds = jsonOf(listed).rooms.map((x: { room_id: string }) => x.room_id);
    expect(roomIds).not.toContain(room);
    expect(roomIds).toContain(other);
    const c = redis.client();
    try {
      const keys = ['peers', 'routes', 'presence', 'meta'].map((k) => `${prefix}room:{r:${room}}:${k}`);
      expect(await c.exists(...keys)).toBe(0);
      // (The rooms index may get the room back for a moment: an instance touches it when it closes
      // a connection. Readers skip index entries whose room has no records; heartbeats prune them.)
      expect(await c.exists(`${prefix}peer:{p:d1}`, `${prefix}peer:{p:d2}`, `${prefix}peer:{p:d3}`)).toBe(0);
    } finally {
      c.disconnect();
    }

    // JSON form; the room can be joined again afterwards.
    const again = await registeredPeer(s2.url, { room_id: room, peer_id: 'd4' });
    const doc = jsonOf(await cli(['room', 'delete', room, '--json', '--reason', 'maintenance']));
    expect(doc).toMatchObject({
      version: 1,
      room_id: room,
      deleted_peers: ['d4'],
      room_removed: true,
      peers: [{ peer_id: 'd4', server_id: again.registered.server_id, instance_notified: true }],
    });
    expect(await within(again.client.closed, 5000, 'close of the peer of the re-deleted room')).toEqual({ code: 1000, reason: 'maintenance' });

    // A room created ahead of use (`room create`, as POST /create-room does on a --rooms token
    // server; these servers have open rooms) exists before anyone joins; deleting it removes its
    // token too, as the service's delete-peers-and-room does.
    const created = freshRoom('created');
    expect((await cli(['room', 'create', created, '--expires', '1h'])).code).toBe(0);
    const shownCreated = jsonOf(await cli(['room', created, '--json']));
    expect(shownCreated).toMatchObject({ room_id: created, peers: 0, count: 0, created_room: { created_at: expect.any(String), expires_at: expect.any(String) } });
    expect(Date.parse(shownCreated.created_room.expires_at) - Date.now()).toBeGreaterThan(3_000_000);
    expect(JSON.stringify(shownCreated)).not.toMatch(/token_hash/);
    // Nobody joined yet: the table takes when it began and ends from the room's record.
    const createdTable = linesOf(await cli(['room', created]))[0]!;
    expect(createdTable).toMatch(/created \d+s ago · expires in (59m|1h)/);
    expect(createdTable).not.toMatch(/created - |expires in never/);
    expect(linesOf(await cli(['room', 'delete', created]))).toEqual([`deleted room ${created}: 0 peers removed`]);
    const c2 = redis.client();
    try {
      expect(await c2.exists(`${prefix}room:{r:${created}}:token`)).toBe(0);
    } finally {
      c2.disconnect();
    }
  });

  it('--watch redraws: one JSON document per line when piped, in place with colour on a terminal, until Ctrl-C', async () => {
    const room = freshRoom('watched');
    await registeredPeer(s1.url, { room_id: room, peer_id: 'w-1', role: 'worker' });

    // Piped, --json: NDJSON; SIGINT ends it with exit code 0.
    const child = spawn(process.execPath, [BIN, 'room', '--watch', room, '--interval', '0.3', '-o', 'json', '--redis', redis.url, '--prefix', prefix], {
      cwd: ROOT,
      env: cliEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await eventually(
      async () => out,
      (o) => o.split('\n').filter(Boolean).length >= 2,
      15_000,
      100,
    );
    await registeredPeer(s2.url, { room_id: room, peer_id: 'w-2', role: 'client' });
    await eventually(
      async () => out,
      (o) => o.includes('"w-2"'),
      15_000,
      100,
    );
    child.kill('SIGINT');
    expect(await within(exited, 5000, 'exit of the watch on SIGINT')).toBe(0);
    const docs = out
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { room_id: string; count: number });
    expect(docs.length).toBeGreaterThanOrEqual(3);
    expect(docs[0]).toMatchObject({ room_id: room, count: 1 });
    expect(docs.at(-1)).toMatchObject({ room_id: room, count: 2 });

    // A terminal (script(1) gives the command a pseudo-terminal): redrawn in place, in colour;
    // NO_COLOR keeps the redrawing and drops the colour.
    for (const noColor of [false, true]) {
      const tty = await runInTerminal(
        `${process.execPath} ${BIN} servers --watch --interval 0.3 --redis ${redis.url} --prefix ${prefix}`,
        noColor ? { NO_COLOR: '1' } : {},
        (drawn) => drawn.split('\u001b[H').length >= 3,
      );
      expect(tty).toContain('\u001b[H');
      expect(tty).toContain('\u001b[K');
      expect(tty.split('\u001b[H').length).toBeGreaterThanOrEqual(3);
      expect(tty).toMatch(/INSTANCE/);
      // Ctrl-C leaves the terminal as it was: cursor shown, line wrapping back on.
      expect(tty).toContain('\u001b[?7h\u001b[?25h');
      if (noColor) expect(tty).not.toMatch(/\u001b\[[0-9;]*m/);
      else expect(tty).toContain('\u001b[1mINSTANCE\u001b[22m');
    }
  });

  it('never walked the keyspace: no KEYS or SCAN reached Redis', async () => {
    const c = redis.client();
    try {
      const stats = (await c.info('commandstats')).split('\n');
      // Sanity: the commands above did reach this Redis through their pipelines.
      expect(stats.some((l) => l.startsWith('cmdstat_hvals:'))).toBe(true);
      expect(stats.some((l) => l.startsWith('cmdstat_zrevrange:') || l.startsWith('cmdstat_zrange:'))).toBe(true);
      expect(stats.filter((l) => /^cmdstat_(keys|scan):/.test(l))).toEqual([]);
    } finally {
      c.disconnect();
    }
  });
});

/**
 * Runs a shell command under script(1), which gives it a pseudo-terminal, until what it drew
 * satisfies `enough`; then types Ctrl-C. Resolves with everything drawn.
 */
function runInTerminal(command: string, env: Record<string, string>, enough: (drawn: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const childEnv: NodeJS.ProcessEnv = { ...cliEnv(), TERM: 'xterm-256color', ...env };
    // A terminal under CI=true would get no colour from chalk's detection; this test is about a person's terminal.
    delete childEnv.CI;
    delete childEnv.FORCE_COLOR;
    const child = spawn('script', ['-qefc', command, '/dev/null'], { env: childEnv, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let interrupted = false;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (!interrupted && enough(out)) {
        interrupted = true;
        child.stdin.write('\u0003');
      }
    });
    child.once('error', reject);
    const kill = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve(out);
    });
  });
}
