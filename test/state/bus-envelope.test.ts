import { describe, expect, it } from 'vitest';
import { decodeEnvelope, deliverEnvelope, splitBusMessage } from '../../src/state/redis/bus-envelope.js';

/** How the ROUTE script packs several envelopes into one channel message: 'b', then "<byte length>:<envelope>" each. */
const batch = (...envelopes: string[]) => Buffer.from(`b${envelopes.map((e) => `${Buffer.byteLength(e)}:${e}`).join('')}`);

describe('bus messages', () => {
  it('one envelope is passed on whole', () => {
    const e = deliverEnvelope('peer:1', '{"a":"ü"}');
    expect(splitBusMessage(Buffer.from(e))).toEqual([e]);
    expect(decodeEnvelope(e)).toEqual({ kind: 'deliver', peerId: 'peer:1', frame: '{"a":"ü"}' });
  });

  it('a batch is cut by byte lengths, so multi-byte characters stay whole', () => {
    const envelopes = [deliverEnvelope('a', '{"p":"ü€😀"}'), deliverEnvelope('b:c', '{}'), deliverEnvelope('日本', '{"x":"12:34"}')];
    expect(splitBusMessage(batch(...envelopes))).toEqual(envelopes);
    expect(splitBusMessage(batch(...envelopes))!.map(decodeEnvelope)).toEqual([
      { kind: 'deliver', peerId: 'a', frame: '{"p":"ü€😀"}' },
      { kind: 'deliver', peerId: 'b:c', frame: '{}' },
      { kind: 'deliver', peerId: '日本', frame: '{"x":"12:34"}' },
    ]);
  });

  it('a malformed batch is refused whole', () => {
    expect(splitBusMessage(Buffer.from('b5:abc'))).toBeNull(); // shorter than its length
    expect(splitBusMessage(Buffer.from('bx:abc'))).toBeNull(); // no length
    expect(splitBusMessage(Buffer.from('b:abc'))).toBeNull();
    expect(splitBusMessage(Buffer.from('b3:abc2'))).toBeNull(); // a trailing length with no colon
    expect(splitBusMessage(Buffer.from('b'))).toEqual([]);
  });
});
