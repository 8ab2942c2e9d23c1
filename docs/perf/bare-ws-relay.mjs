#!/usr/bin/env node
// The floor that docs/performance.md compares the server with: a WebSocket relay that does nothing
// a real signaling server must do (no validation, limits, metrics, heartbeats or presence). It
// answers `register` with `registered` and forwards `peer_message` by `to_peer_id`; with --redis it
// is one of two instances joined by Redis pub/sub (a target not held here is published to the other
// instance's channel). Enough protocol for `sleap-signal bench` relay scenarios, nothing more.
//
//   node docs/perf/bare-ws-relay.mjs --port 18700 [--redis redis://127.0.0.1:16399 --name a --other b]
import { parseArgs } from 'node:util';
import { WebSocketServer } from 'ws';

const { values: opts } = parseArgs({
  options: { port: { type: 'string', default: '18700' }, redis: { type: 'string' }, name: { type: 'string', default: 'a' }, other: { type: 'string', default: 'b' } },
});
const peers = new Map();
let publish = null;
if (opts.redis) {
  const { Redis } = await import('ioredis');
  const pub = new Redis(opts.redis);
  const sub = new Redis(opts.redis);
  await sub.subscribe(`bare:${opts.name}`);
  // Channel message: "<target id>\n<frame>".
  sub.on('message', (_channel, message) => {
    const cut = message.indexOf('\n');
    peers.get(message.slice(0, cut))?.send(message.slice(cut + 1));
  });
  publish = (target, frame) => pub.publish(`bare:${opts.other}`, `${target}\n${frame}`);
}

const wss = new WebSocketServer({ port: Number(opts.port), host: '127.0.0.1', perMessageDeflate: false });
wss.on('connection', (ws) => {
  let id = null;
  ws.on('message', (data) => {
    const msg = JSON.parse(data.toString());
    if (msg.type === 'register') {
      id = msg.peer_id;
      peers.set(id, ws);
      ws.send(JSON.stringify({ type: 'registered', peer_id: id, room_id: msg.room_id, peers: [] }));
    } else if (msg.type === 'peer_message') {
      const frame = JSON.stringify({ type: 'peer_message', from_peer_id: id, to_peer_id: msg.to_peer_id, payload: msg.payload });
      const target = peers.get(msg.to_peer_id);
      if (target) target.send(frame);
      else publish?.(msg.to_peer_id, frame);
    }
  });
  ws.on('close', () => {
    if (id !== null && peers.get(id) === ws) peers.delete(id);
  });
});
wss.on('listening', () => process.stderr.write(`bare relay ${opts.name} on ws://127.0.0.1:${opts.port}\n`));
