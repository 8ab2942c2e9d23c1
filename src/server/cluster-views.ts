import type { ClusterView } from '../admin/views.js';
import type { StateBackend } from '../state/state-backend.js';
import { InstanceViews, type InstanceSnapshot } from './instance-views.js';

/**
 * The server's operator views, opened on first use. With Redis: the cluster read exactly as the
 * CLI reads it (ClusterReader, on this instance's command connection; loaded with the Redis
 * backend only). Without: this instance's own state.
 */
export function clusterViews(state: StateBackend, self: () => InstanceSnapshot): () => Promise<ClusterView> {
  let view: Promise<ClusterView> | null = null;
  return () => (view ??= open(state, self));
}

async function open(state: StateBackend, self: () => InstanceSnapshot): Promise<ClusterView> {
  if (state.kind === 'memory') return new InstanceViews(state, self);
  const [{ RedisBackend }, { ClusterReader }] = await Promise.all([import('../state/redis/redis-backend.js'), import('../admin/cluster-reader.js')]);
  if (!(state instanceof RedisBackend)) throw new Error('operator views: a Redis state backend of another kind');
  return new ClusterReader(state.commandClient(), state.keys);
}
