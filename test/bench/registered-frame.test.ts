import { describe, expect, it } from 'vitest';
import { isRegisteredFrame } from '../../src/bench/registered-frame.js';

describe('bench: recognising registered replies without parsing them', () => {
  it('takes registered and registered_auth as this server writes them', () => {
    expect(isRegisteredFrame(Buffer.from('{"type":"registered","peer_id":"a","peer_list":[]}'))).toBe(true);
    expect(isRegisteredFrame(Buffer.from('{"type":"registered_auth","peer_id":"a"}'))).toBe(true);
  });

  it('leaves every other frame to the full parse', () => {
    for (const frame of ['{"type":"registeredX"}', '{"type":"registered_authz"}', '{"type":"register"}', '{"type":"registered', '{"peer_id":"a","type":"registered"}', '{"type":"error"}']) {
      expect(isRegisteredFrame(Buffer.from(frame)), frame).toBe(false);
    }
  });
});
