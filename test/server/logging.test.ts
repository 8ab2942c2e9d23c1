import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { connect, freshRoom, registeredPeer, SignalClient, startServer } from '../helpers/harness.js';
import type { SignalingServer } from '../../src/server/signaling-server.js';

/**
 * Structured logs: one JSON line per event (connection open, registration, error, connection
 * close), and never a message payload or a credential, whatever the client sends.
 */

const WAIT = 5000;

const SECRETS = {
  payload: 'PAYLOAD-SECRET-5d1e8a',
  nestedPayload: 'NESTED-PAYLOAD-SECRET-77ab',
  jwt: 'eyJhbGciOiJIUzI1NiJ9.JWT-SECRET-c0ffee.sig',
  idToken: 'ID-TOKEN-SECRET-4411',
  apiKey: 'slp_APIKEY-SECRET-9b2f',
  roomToken: 'ROOM-TOKEN-SECRET-31f0',
  sessionToken: 'SESSION-TOKEN-SECRET-ae42',
  urlToken: 'URL-TOKEN-SECRET-6c6c',
  headerToken: 'HEADER-BEARER-SECRET-0b0b',
  offerSdp: 'SDP-SECRET-v0-1234',
  metadataValue: 'METADATA-SECRET-1e1e',
};

type Line = Record<string, unknown>;

function collector(): { stream: Writable; lines: string[] } {
  const lines: string[] = [];
  let partial = '';
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      partial += chunk.toString();
      const parts = partial.split('\n');
      partial = parts.pop()!;
      lines.push(...parts.filter((l) => l.length > 0));
      cb();
    },
  });
  return { stream, lines };
}

async function settle(server: SignalingServer, n: number): Promise<void> {
  const deadline = performance.now() + WAIT;
  while (server.connectionCount > n && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  expect(server.connectionCount).toBe(n);
}

describe('logs', () => {
  it('one JSON line per event, and no payload or credential in any line', async () => {
    const { stream, lines } = collector();
    const logger = pino({ level: 'debug' }, stream);
    const server = await startServer({}, { logger });
    const room = freshRoom('logs');

    // A: connects with a token in the URL, registers with every kind of credential.
    const a = await connect(server, `/?token=${SECRETS.urlToken}`);
    const reg = await a.request(
      {
        type: 'register',
        room_id: room,
        peer_id: 'alice',
        token: SECRETS.roomToken,
        jwt: SECRETS.jwt,
        id_token: SECRETS.idToken,
        api_key: SECRETS.apiKey,
        session_token: SECRETS.sessionToken,
        metadata: { properties: { secret: SECRETS.metadataValue } },
      },
      'registered',
      WAIT,
    );
    expect(reg.type).toBe('registered');
    const issuedSessionToken = String(reg.session_token);

    const errorsSent = 3;
    // B: credentials on the upgrade request header.
    const b = await SignalClient.connect(`${server.url}/ws`, { headers: { authorization: `Bearer ${SECRETS.headerToken}` } });
    try {
      expect((await b.request({ type: 'register', room_id: room, peer_id: 'bob' }, 'registered', WAIT)).type).toBe('registered');

      // Relays carrying secrets (delivered), then failures carrying secrets (errors).
      a.send({ type: 'peer_message', to_peer_id: 'bob', payload: { data: SECRETS.payload, deep: [{ x: SECRETS.nestedPayload }] } });
      expect((await b.next('peer_message', WAIT)).payload).toMatchObject({ data: SECRETS.payload });
      a.send({ type: 'offer', target: 'bob', sdp: SECRETS.offerSdp });
      await b.next('offer', WAIT);

      const e1 = await a.request({ type: 'peer_message', to_peer_id: 'nobody', payload: SECRETS.payload }, '__none__', WAIT);
      expect(e1.code).toBe('PEER_NOT_FOUND');
      const e2 = await a.request({ type: 'peer_message', to_peer_id: 5, payload: SECRETS.payload, token: SECRETS.roomToken }, '__none__', WAIT);
      expect(e2.code).toBe('INVALID_MESSAGE');
      const e3 = await a.request({ type: 'register', room_id: room, peer_id: 'bob', jwt: SECRETS.jwt, session_token: SECRETS.sessionToken }, 'registered', WAIT);
      expect(e3.code).toBe('PEER_ID_TAKEN');

      await a.close();
      await b.close();
      await settle(server, 0);
    } finally {
      b.terminate();
    }

    // Every line is one JSON object with a level, a time and a message.
    const parsed: Line[] = lines.map((l) => {
      const v = JSON.parse(l) as Line;
      expect(typeof v).toBe('object');
      expect(typeof v.level).toBe('number');
      expect(typeof v.time).toBe('number');
      expect(typeof v.msg).toBe('string');
      return v;
    });

    // No secret anywhere, not even the server-issued session token.
    const all = lines.join('\n');
    for (const [name, secret] of Object.entries({ ...SECRETS, issuedSessionToken })) {
      expect(all.includes(secret), `log contains ${name}`).toBe(false);
    }
    // Not the credential fields' names with values either.
    for (const v of parsed) {
      for (const key of ['token', 'jwt', 'id_token', 'api_key', 'session_token', 'payload', 'authorization']) {
        expect(JSON.stringify(v)).not.toMatch(new RegExp(`"${key}":"[^"]+"`));
      }
    }

    // One line each per event, tied to the connection.
    const registered = parsed.filter((v) => v.event === 'registered');
    const aliceReg = registered.filter((v) => v.peerId === 'alice');
    expect(aliceReg).toHaveLength(1);
    const aliceConn = aliceReg[0]!.connectionId;
    expect(typeof aliceConn).toBe('string');
    expect(registered.filter((v) => v.peerId === 'bob')).toHaveLength(1);
    const bobConn = registered.find((v) => v.peerId === 'bob')!.connectionId;

    const opens = parsed.filter((v) => v.event === 'connection_open');
    const closes = parsed.filter((v) => v.event === 'connection_close');
    expect(opens.filter((v) => v.connectionId === aliceConn)).toHaveLength(1);
    expect(opens.filter((v) => v.connectionId === bobConn)).toHaveLength(1);
    expect(closes.filter((v) => v.connectionId === aliceConn)).toHaveLength(1);
    expect(closes.filter((v) => v.connectionId === bobConn)).toHaveLength(1);
    expect(opens).toHaveLength(2);
    expect(closes).toHaveLength(2);

    const errors = parsed.filter((v) => v.event === 'error');
    expect(errors).toHaveLength(errorsSent);
    expect(errors.every((v) => v.connectionId === aliceConn)).toBe(true);
    expect(errors.map((v) => v.code).sort()).toEqual(['INVALID_MESSAGE', 'PEER_ID_TAKEN', 'PEER_NOT_FOUND']);
  });
});
