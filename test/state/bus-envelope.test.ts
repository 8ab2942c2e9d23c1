import { describe, expect, it } from 'vitest';
import { decodeEnvelope, deliverEnvelope, presenceEnvelope, refusedEnvelope, splitBusMessage, type Envelope, type RoutedRelay } from '../../src/state/redis/bus-envelope.js';

const origin = { connectionId: 'host-1:ab:7', requestType: 'peer_message' };
const to = (peerId: string, reroutes: 0 | 1 = 0): RoutedRelay => ({ peerId, roomId: 'room:1', origin, reroutes });

/** How route.lua packs several envelopes into one channel message: 'b', then "<byte length>:<envelope>" each. */
const batch = (...envelopes: string[]) => Buffer.from(`b${envelopes.map((e) => `${Buffer.byteLength(e)}:${e}`).join('')}`);

/** An envelope with its frame (the bytes it arrived as) read as text. */
const asText = (envelope: Envelope | null) =>
  envelope !== null && 'frame' in envelope ? { ...envelope, frame: envelope.frame.toString() } : envelope;
const texts = (parts: Buffer[] | null) => parts?.map((p) => p.toString('utf8'));

describe('bus messages', () => {
  it('one envelope is passed on whole', () => {
    const e = deliverEnvelope(to('peer:1', 1), '{"a":"ü"}');
    expect(texts(splitBusMessage(Buffer.from(e)))).toEqual([e]);
    expect(asText(decodeEnvelope(Buffer.from(e)))).toEqual({ kind: 'deliver', relay: to('peer:1', 1), frame: '{"a":"ü"}' });
  });

  it('a batch is cut by byte lengths, so multi-byte characters stay whole', () => {
    const envelopes = [deliverEnvelope(to('a'), '{"p":"ü€😀"}'), deliverEnvelope(to('b:c'), '{}'), deliverEnvelope(to('日本'), '{"x":"12:34"}')];
    expect(texts(splitBusMessage(batch(...envelopes)))).toEqual(envelopes);
    expect(splitBusMessage(batch(...envelopes))!.map((e) => asText(decodeEnvelope(e)))).toEqual([
      { kind: 'deliver', relay: to('a'), frame: '{"p":"ü€😀"}' },
      { kind: 'deliver', relay: to('b:c'), frame: '{}' },
      { kind: 'deliver', relay: to('日本'), frame: '{"x":"12:34"}' },
    ]);
  });

  it('keeps a received frame as the bytes it arrived as, whatever the ids', () => {
    const ascii = decodeEnvelope(Buffer.from(deliverEnvelope(to('peer:1'), '{"p":"ü€😀"}')));
    expect(ascii).toMatchObject({ kind: 'deliver', relay: to('peer:1') });
    expect(Buffer.isBuffer((ascii as { frame: unknown }).frame)).toBe(true);
    expect((ascii as { frame: Buffer }).frame.toString('utf8')).toBe('{"p":"ü€😀"}');
    // A field's length counts UTF-16 code units: for a non-ASCII id that is not its byte length.
    for (const id of ['日本', 'ü', '😀x']) {
      const e = decodeEnvelope(Buffer.from(deliverEnvelope(to(id), '{"x":1}')));
      expect(Buffer.isBuffer((e as { frame: unknown }).frame)).toBe(true);
      expect(asText(e)).toEqual({ kind: 'deliver', relay: to(id), frame: '{"x":1}' });
    }
    const presence = decodeEnvelope(Buffer.from(presenceEnvelope('room:1', 'host-1:ab:9', '{"type":"peer_joined"}')));
    expect(Buffer.isBuffer((presence as { frame: unknown }).frame)).toBe(true);
    expect(asText(presence)).toEqual({ kind: 'presence', roomId: 'room:1', aboutConnectionId: 'host-1:ab:9', frame: '{"type":"peer_joined"}' });
    expect(asText(decodeEnvelope(Buffer.from(presenceEnvelope('ræum', 'c', '{}'))))).toEqual({ kind: 'presence', roomId: 'ræum', aboutConnectionId: 'c', frame: '{}' });
  });

  it('a refusal names the sender\'s connection, its message type, the target and why', () => {
    const e = refusedEnvelope(origin, 'peer:ü', 'not_found');
    expect(decodeEnvelope(Buffer.from(e))).toEqual({ kind: 'refused', origin, targetPeerId: 'peer:ü', reason: 'not_found' });
    expect(decodeEnvelope(Buffer.from(refusedEnvelope(origin, 'x', 'unavailable')))).toMatchObject({ reason: 'unavailable' });
    expect(decodeEnvelope(Buffer.from(`${refusedEnvelope(origin, 'x', 'not_found')}!`))).toBeNull();
    // reroutes is 0 or 1; a header cut short; a length past the end; no length; a field ending inside a character.
    for (const bad of ['d2' + deliverEnvelope(to('a'), '{}').slice(2), 'd01:a', 'd09:a', 'dx', 'p4:room', 'p:x', 'd0a:b1:c', 'p1:😀1:c{}']) {
      expect(decodeEnvelope(Buffer.from(bad)), bad).toBeNull();
    }
  });

  it('a malformed batch is refused whole', () => {
    expect(splitBusMessage(Buffer.from('b5:abc'))).toBeNull(); // shorter than its length
    expect(splitBusMessage(Buffer.from('bx:abc'))).toBeNull(); // no length
    expect(splitBusMessage(Buffer.from('b:abc'))).toBeNull();
    expect(splitBusMessage(Buffer.from('b3:abc2'))).toBeNull(); // a trailing length with no colon
    expect(splitBusMessage(Buffer.from('b'))).toEqual([]);
  });
});
