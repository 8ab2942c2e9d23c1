#!/usr/bin/env node
// Writes rooms and peers straight into Redis, in the key layout `serve --redis` uses (the built
// KeySpace from dist/), for the size tests and for measuring the operator commands by hand:
//
//   node test/inspect/seed-rooms.mjs --redis redis://127.0.0.1:6379 --prefix size: --rooms 10000 --peers 2
//   node test/inspect/seed-rooms.mjs --redis redis://127.0.0.1:6379 --prefix size: --rooms 1 --peers 5000
//
// The peers belong to one made-up instance, registered as live (its heartbeat hash expires
// after --server-ttl seconds, 300 by default). Prints one JSON line: what was written, in how long.
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { KeySpace } from '../../dist/state/redis/key-space.js';

const { values } = parseArgs({
  options: {
    redis: { type: 'string' },
    prefix: { type: 'string', default: 'sleap:' },
    rooms: { type: 'string', default: '1000' },
    peers: { type: 'string', default: '2' },
    'room-prefix': { type: 'string', default: 'room-' },
    'server-id': { type: 'string', default: 'seeded-host-0001' },
    'server-ttl': { type: 'string', default: '300' },
  },
});
if (!values.redis) {
  console.error('usage: seed-rooms.mjs --redis URL [--prefix P] [--rooms N] [--peers N] [--room-prefix R] [--server-id S]');
  process.exit(2);
}

const keys = new KeySpace(values.prefix);
const roomCount = Number(values.rooms);
const peersPerRoom = Number(values.peers);
const serverId = values['server-id'];
const ttl = 7200;
const redis = new Redis(values.redis, { maxRetriesPerRequest: 1 });
const started = performance.now();
const now = Date.now();
const roles = ['worker', 'client', 'labeler'];

let conn = 0;
let pipeline = redis.pipeline();
let queued = 0;
for (let r = 0; r < roomCount; r++) {
  const roomId = `${values['room-prefix']}${String(r).padStart(6, '0')}`;
  const records = {};
  const routes = {};
  for (let p = 0; p < peersPerRoom; p++) {
    const peerId = `${roomId}-peer-${p}`;
    const connectionId = `${serverId}:${++conn}`;
    const record = {
      peerId,
      roomId,
      role: roles[p % roles.length],
      metadata: { tags: p % 2 === 0 ? ['gpu', 'a100'] : ['cpu'], properties: { vram: p % 2 === 0 ? 80 : 0, zone: 'us-east-1', slot: p } },
      connectedAt: (now - 60_000) / 1000 + p / 1000,
      serverId,
      connectionId,
      sessionToken: `seeded-${r}-${p}`,
      subject: null,
      presence: p === 0,
    };
    records[peerId] = JSON.stringify(record);
    routes[peerId] = connectionId;
    pipeline.hset(keys.peer(peerId), { conn: connectionId, room: roomId, session: record.sessionToken, subject: '', at: String(record.connectedAt) });
    pipeline.expire(keys.peer(peerId), ttl);
    pipeline.sadd(keys.serverPeers(serverId), peerId);
    queued += 3;
    if (p === 0) pipeline.hset(keys.roomPresence(roomId), peerId, connectionId);
    if (Object.keys(records).length >= 500) {
      pipeline.hset(keys.roomPeers(roomId), records);
      pipeline.hset(keys.roomRoutes(roomId), routes);
      for (const k of Object.keys(records)) {
        delete records[k];
        delete routes[k];
      }
    }
    if (queued >= 5_000) {
      await pipeline.exec();
      pipeline = redis.pipeline();
      queued = 0;
    }
  }
  if (Object.keys(records).length > 0) {
    pipeline.hset(keys.roomPeers(roomId), records);
    pipeline.hset(keys.roomRoutes(roomId), routes);
  }
  pipeline.hset(keys.roomMeta(roomId), { created_at: String(now - 60_000), last_used: String(now - r) });
  for (const key of keys.room(roomId)) pipeline.expire(key, ttl);
  pipeline.zadd(keys.rooms, now - r, roomId);
  queued += 7;
  if (queued >= 5_000) {
    await pipeline.exec();
    pipeline = redis.pipeline();
    queued = 0;
  }
}
pipeline.hset(keys.server(serverId), {
  host: '127.0.0.1',
  port: '8080',
  version: 'seeded',
  started_at: String(now - 60_000),
  heartbeat_at: String(now),
  connections: String(conn),
  peers: String(conn),
  relayed_total: '0',
  relay_rate: '0.0',
});
pipeline.expire(keys.server(serverId), Number(values['server-ttl']));
pipeline.zadd(keys.servers, now, serverId);
await pipeline.exec();
await redis.quit();
console.log(JSON.stringify({ rooms: roomCount, peers: conn, prefix: values.prefix, server_id: serverId, ms: Math.round(performance.now() - started) }));
