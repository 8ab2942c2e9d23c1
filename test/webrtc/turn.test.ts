import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintTurnCredential } from '../../src/server/turn-credentials.js';
import { ensureBuilt, startServe, WsClient, closeAllClients, killAll, type ServeProcess } from '../cli/cli-helpers.js';
import { CoturnProcess, requireCoturn } from '../helpers/coturn.js';
import { freshRoom } from '../helpers/harness.js';
import { AiortcPeer, expectIntact, MiB, requireAiortc, transfer } from './aiortc.js';

/**
 * TURN end to end: `sleap-signal serve` (the built CLI, configured through TURN_SECRET, TURN_URLS,
 * TURN_TTL and --ice-servers) mints credentials that a real coturn accepts; aiortc peers with no
 * host candidates connect through its relays. Credentials that coturn must refuse (a forged HMAC,
 * an expired username) make the allocation fail.
 */
describe.runIf(requireAiortc() && requireCoturn())('TURN credentials from registered, checked by a real coturn', () => {
  const secret = `s3cret-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const coturn = new CoturnProcess(secret);
  let serve: ServeProcess;
  const stun = () => ({ urls: `stun:127.0.0.1:${coturn.port}` });

  beforeAll(async () => {
    ensureBuilt();
    await coturn.start();
    serve = await startServe(['--host', '127.0.0.1', '--port', '0', '--ice-servers', JSON.stringify([stun()])], {
      env: { TURN_SECRET: secret, TURN_URLS: coturn.url, TURN_TTL: '10m' },
    });
  }, 60_000);

  afterAll(async () => {
    closeAllClients();
    await killAll();
    await coturn.stop();
  });

  it('registered lists --ice-servers, then the TURN URLs with a credential for this peer (TURN_TTL from now)', async () => {
    const client = await WsClient.open(serve.url);
    const before = Math.floor(Date.now() / 1000);
    const reply = await client.request({ type: 'register', room_id: freshRoom('turn'), peer_id: 'gpu:worker-1' }, 'registered');
    const servers = reply.ice_servers as { urls: unknown; username: string; credential: string }[];
    expect(reply.mesh_ice_servers).toEqual(servers);
    expect(servers).toHaveLength(2);
    expect(servers[0]).toEqual(stun());
    expect(servers[1]!.urls).toEqual([coturn.url]);
    const expiry = Number(servers[1]!.username.split(':')[0]);
    expect(servers[1]!.username).toBe(`${expiry}:gpu:worker-1`);
    expect(expiry - before).toBeGreaterThanOrEqual(600);
    expect(expiry - before).toBeLessThanOrEqual(602);
    expect(servers[1]!.credential).toBe(mintTurnCredential(secret, 'gpu:worker-1', 0, expiry * 1000).credential);
  });

  it('two relay-only aiortc peers connect through coturn with the credentials from registered', async () => {
    const t = await transfer({ offererUrl: serve.url, answererUrl: serve.url, room: freshRoom('turn'), relayOnly: true, bytes: MiB });
    expectIntact(t, 'through coturn (relay candidates only)', 'relay');
    expect((t.received.pair as { local: { type: string } }).local.type).toBe('relay');
  }, 60_000);

  it('the same allocation succeeds with the credential from registered (the control for the two below; a peer id with a colon)', async () => {
    const peer = new AiortcPeer({ url: serve.url, room: freshRoom('turn'), peerId: 'gpu:worker-2', gatherOnly: true, relayOnly: true });
    expect((await peer.next(['gathered'])).candidates).toEqual(['relay']);
    expect(await peer.exited).toBe(0);
  }, 60_000);

  it('a forged credential (HMAC under another secret) is refused: the allocation fails with 401', async () => {
    const forged = mintTurnCredential(`${secret}-not`, 'client-a', 600);
    const peer = new AiortcPeer({ url: serve.url, room: freshRoom('turn'), peerId: 'client-a', gatherOnly: true, relayOnly: true, turnUsername: forged.username, turnCredential: forged.credential });
    await expectRefused(peer, forged.username);
  }, 60_000);

  it('an expired credential (right HMAC, expiry passed) is refused: the allocation fails with 401', async () => {
    const expired = mintTurnCredential(secret, 'client-a', -60);
    const peer = new AiortcPeer({ url: serve.url, room: freshRoom('turn'), peerId: 'client-a', gatherOnly: true, relayOnly: true, turnUsername: expired.username, turnCredential: expired.credential });
    await expectRefused(peer, expired.username);
  }, 60_000);

  it('never logs the secret or a credential', async () => {
    const client = await WsClient.open(serve.url);
    const reply = await client.request({ type: 'register', room_id: freshRoom('turn') }, 'registered');
    const { credential } = (reply.ice_servers as { credential: string }[])[1]!;
    await serve.waitForLog((l) => l.event === 'registered' && l.peerId === reply.peer_id);
    const output = serve.lines.join('\n') + serve.stderr();
    expect(output).toContain('"listening"');
    expect(output).not.toContain(secret);
    expect(output).not.toContain(credential);
  });

  async function expectRefused(peer: AiortcPeer, username: string): Promise<void> {
    const failed = await peer.failure();
    expect(failed.stage).toBe('gather');
    expect(failed.error).toMatch(/401/);
    // coturn's own account of it.
    await expect.poll(() => coturn.log, { timeout: 5000 }).toContain(`user <${username}>`);
  }
});
