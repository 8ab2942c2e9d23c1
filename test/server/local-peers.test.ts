import { describe, expect, it } from 'vitest';
import { LocalPeers } from '../../src/server/local-peers.js';
import type { Connection } from '../../src/server/connection.js';

/** A connection that records what it was sent; `open` false makes send fail as a closing socket's does. */
function fakeConnection(open = true, room = 'r'): Connection & { sent: string[] } {
  const sent: string[] = [];
  return { sent, registration: { peerId: 'x', roomId: room }, send: (frame: string) => (open ? (sent.push(frame), true) : false) } as unknown as Connection & {
    sent: string[];
  };
}

describe('relays held for a registration in progress', () => {
  it('are refused at once when no registration of the peer id is in progress', () => {
    const peers = new LocalPeers();
    expect(peers.hold('x', 'r', 'f', () => {})).toBe(false);
  });

  it('reach the connection once it is registered, in order', () => {
    const peers = new LocalPeers();
    const end = peers.beginRegistration('x');
    const refused: string[] = [];
    expect(peers.hold('x', 'r', 'f1', () => refused.push('f1'))).toBe(true);
    expect(peers.hold('x', 'r', 'f2', () => refused.push('f2'))).toBe(true);
    const conn = fakeConnection();
    end(conn);
    expect(conn.sent).toEqual(['f1', 'f2']);
    expect(refused).toEqual([]);
    // Over: nothing more is held.
    expect(peers.hold('x', 'r', 'f3', () => {})).toBe(false);
  });

  it('are refused when the registration fails, or when the connection can no longer take them', () => {
    const peers = new LocalPeers();
    const refused: string[] = [];
    const end = peers.beginRegistration('x');
    peers.hold('x', 'r', 'f1', () => refused.push('f1'));
    end(null);
    expect(refused).toEqual(['f1']);
    const again = peers.beginRegistration('x');
    peers.hold('x', 'r', 'f2', () => refused.push('f2'));
    again(fakeConnection(false));
    expect(refused).toEqual(['f1', 'f2']);
  });

  it('wait for another registration of the same id when one of two fails', () => {
    const peers = new LocalPeers();
    const refused: string[] = [];
    const first = peers.beginRegistration('x');
    const second = peers.beginRegistration('x');
    peers.hold('x', 'r', 'f1', () => refused.push('f1'));
    first(null);
    expect(refused).toEqual([]);
    expect(peers.hold('x', 'r', 'f2', () => refused.push('f2'))).toBe(true);
    const conn = fakeConnection();
    second(conn);
    first(null); // a second call changes nothing
    expect(conn.sent).toEqual(['f1', 'f2']);
    expect(refused).toEqual([]);
    expect(peers.hold('x', 'r', 'f3', () => {})).toBe(false);
  });

  it('are refused when the registration lands in another room than the relay was routed in', () => {
    const peers = new LocalPeers();
    const refused: string[] = [];
    const end = peers.beginRegistration('x');
    peers.hold('x', 'r', 'f1', () => refused.push('f1'));
    const conn = fakeConnection(true, 'elsewhere');
    end(conn);
    expect(conn.sent).toEqual([]);
    expect(refused).toEqual(['f1']);
  });
});
