import { describe, expect, it } from 'vitest';
import { decodeEnvelope, deliverEnvelope, refusedEnvelope, splitBusMessage, type RoutedRelay } from '../../src/state/redis/bus-envelope.js';

const origin = { connectionId: 'host-1:ab:7', requestType: 'peer_message' };
const to = (peerId: string, reroutes: 0 | 1 = 0): RoutedRelay => ({ peerId, roomId: 'room:1', origin, reroutes });

/** How route.lua packs several envelopes into one channel message: 'b', then "<byte length>:<envelope>" each. */
const batch = (...envelopes: string[]) => Buffer.from(`b${envelopes.map((e) => `${Buffer.byteLength(e)}:${e}`).join('')}`);

describe('bus messages', () => {
  it('one envelope is passed on whole', () => {
    const e = deliverEnvelope(to('peer:1', 1), '{"a":"ü"}');
    expect(splitBusMessage(Buffer.from(e))).toEqual([e]);
    expect(decodeEnvelope(e)).toEqual({ kind: 'deliver', relay: to('peer:1', 1), frame: '{"a":"ü"}' });
  });

  it('a batch is cut by byte lengths, so multi-byte characters stay whole', () => {
    const envelopes = [deliverEnvelope(to('a'), '{"p":"ü€😀"}'), deliverEnvelope(to('b:c'), '{}'), deliverEnvelope(to('日本'), '{"x":"12:34"}')];
    expect(splitBusMessage(batch(...envelopes))).toEqual(envelopes);
    expect(splitBusMessage(batch(...envelopes))!.map(decodeEnvelope)).toEqual([
      { kind: 'deliver', relay: to('a'), frame: '{"p":"ü€😀"}' },
      { kind: 'deliver', relay: to('b:c'), frame: '{}' },
      { kind: 'deliver', relay: to('日本'), frame: '{"x":"12:34"}' },
    ]);
  });

  it('a refusal names the sender\'s connection, its message type, the target and why', () => {
    const e = refusedEnvelope(origin, 'peer:ü', 'not_found');
    expect(decodeEnvelope(e)).toEqual({ kind: 'refused', origin, targetPeerId: 'peer:ü', reason: 'not_found' });
    expect(decodeEnvelope(refusedEnvelope(origin, 'x', 'unavailable'))).toMatchObject({ reason: 'unavailable' });
    expect(decodeEnvelope(`${refusedEnvelope(origin, 'x', 'not_found')}!`)).toBeNull();
    expect(decodeEnvelope('d2' + deliverEnvelope(to('a'), '{}').slice(2))).toBeNull(); // reroutes is 0 or 1
    expect(decodeEnvelope('d01:a')).toBeNull(); // header cut short
  });

  it('a malformed batch is refused whole', () => {
    expect(splitBusMessage(Buffer.from('b5:abc'))).toBeNull(); // shorter than its length
    expect(splitBusMessage(Buffer.from('bx:abc'))).toBeNull(); // no length
    expect(splitBusMessage(Buffer.from('b:abc'))).toBeNull();
    expect(splitBusMessage(Buffer.from('b3:abc2'))).toBeNull(); // a trailing length with no colon
    expect(splitBusMessage(Buffer.from('b'))).toEqual([]);
  });
});
