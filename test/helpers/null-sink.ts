import type { BusSink } from '../../src/state/state-backend.js';

/** An instance that holds no peers: for backend tests that look at shared state only. */
export const NULL_SINK: BusSink = Object.freeze({
  deliver: () => false,
  refused() {},
  presence() {},
  control() {},
  instanceStats: () => ({ connections: 0, peers: 0, relayed: 0 }),
});
