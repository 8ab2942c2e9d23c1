import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { ServerOptions } from './server-options.js';

/**
 * The first line of every run, at any log level but silent: what this instance is and how it is
 * set up, so that a log read later says which settings produced it.
 */
export function logStartLine(log: Logger, o: ServerOptions, backend: string, address: AddressInfo): void {
  const line = log.level === 'silent' ? log : log.child({}, { level: 'info' });
  line.info(
    {
      event: 'listening',
      version: o.version,
      host: address.address,
      port: address.port,
      adminPort: o.adminPort,
      backend,
      auth: o.auth,
      rooms: o.rooms,
      compat: o.compat,
      limits: {
        maxConnections: o.maxConnections,
        maxConnectionsPerIp: o.maxConnectionsPerIp,
        maxPayloadBytes: o.limits.maxPayloadBytes,
        maxPeersPerRoom: o.limits.maxPeersPerRoom,
        rate: `${o.limits.ratePerSecond}:${o.limits.rateBurst}`,
        byteRate: `${o.byteRate.perSecond}:${o.byteRate.burst}`,
        unregisteredMaxFrameBytes: o.unregisteredMaxFrameBytes,
        sendBufferLimitBytes: o.sendBufferLimitBytes,
        heartbeatIntervalMs: o.heartbeatIntervalMs,
        drainTimeoutMs: o.drainTimeoutMs,
      },
      trustProxy: o.trustProxy,
    },
    `sleap-signal ${o.version} listening on ${address.address}:${address.port} (${backend} backend, auth ${o.auth}, rooms ${o.rooms}, compat ${o.compat})`,
  );
}
