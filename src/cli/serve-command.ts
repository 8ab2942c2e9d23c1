import { checkRedisFlags } from './redis-flags.js';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { LevelWithSilent } from 'pino';
import { DEFAULT_LIMITS } from '../protocol/limits.js';
import { createLogger, type LogFormat } from '../server/logger.js';
import { DEFAULT_SERVER_OPTIONS, type CompatMode } from '../server/server-options.js';
import { SignalingServer } from '../server/signaling-server.js';
import { VERSION } from '../version.js';
import { parseByteRate, parseChoice, parseDuration, parseInteger, parseList, parseRateLimit, parseSize } from '../options/option-parsers.js';
import { UsageError } from '../options/usage-error.js';
import { applyConfig, configSchema, readConfigFile, resolvedConfig } from './config-file.js';
import { createStateBackend } from '../state/create-backend.js';
import { DEFAULT_REDIS_OPTIONS } from '../state/redis/redis-options.js';
import type { AuthMode } from '../auth/authenticator.js';
import type { JwtConfig } from '../auth/jwt-verifier.js';
import { parseIceServers, parseTurnUrls, type IceServer, type Parsed } from '../server/ice-servers.js';
import type { TurnConfig } from '../server/turn-credentials.js';

interface ServeFlags {
  port: number;
  host: string;
  redis?: string;
  redisCluster?: string[];
  prefix: string;
  roomTtl: number;
  reapAfter: number;
  compat: CompatMode;
  maxPayload: number;
  maxConnections: number;
  maxPeersPerRoom: number;
  rateLimit: { perSecond: number; burst: number };
  byteRateLimit: { perSecond: number; burst: number };
  unregisteredMaxFrame: number;
  heartbeatInterval: number;
  sendBufferLimit: number;
  drainTimeout: number;
  operatorToken?: string;
  auth: AuthMode;
  jwksUrl?: string;
  jwtKeyFile?: string;
  jwtIssuer?: string;
  jwtAudience?: string;
  jwtClockSkew: number;
  cognitoRegion?: string;
  cognitoUserPoolId?: string;
  cognitoClientId?: string;
  rooms: 'open' | 'token';
  roomExpires: number;
  allowedOrigins?: string[];
  iceServers?: string;
  turnSecret?: string;
  turnUrls?: string[];
  turnTtl: number;
  maxConnectionsPerIp: number;
  trustProxy?: boolean;
  handshakeTimeout: number;
  listenBacklog: number;
  metricsToken?: string;
  adminPort?: number;
  logLevel: LevelWithSilent;
  logFormat: LogFormat;
}

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

export function serveCommand(): Command {
  const d = DEFAULT_SERVER_OPTIONS;
  return new Command('serve')
    .description('run the signaling server (in-memory state, or shared through Redis)')
    .addOption(new Option('--port <port>', 'TCP port for WebSocket and HTTP (0: any free port)').env('PORT').argParser(parseInteger(0, 65535)).default(d.port))
    .addOption(new Option('--host <address>', 'address to listen on').env('HOST').default(d.host))
    .addOption(new Option('--redis <url>', 'share state with other instances through this Redis (redis://[:password@]host:port[/db])').env('REDIS_URL'))
    .addOption(
      new Option('--redis-cluster <nodes>', 'share state through this Redis Cluster (comma-separated host:port seed nodes)')
        .env('REDIS_CLUSTER')
        .argParser(parseList),
    )
    .addOption(new Option('--prefix <prefix>', 'prefix of every Redis key and channel').env('REDIS_PREFIX').default(DEFAULT_REDIS_OPTIONS.prefix))
    .addOption(new Option('--room-ttl <duration>', 'Redis: a room expires this long after its last use').env('ROOM_TTL').argParser(parseDuration).default(DEFAULT_REDIS_OPTIONS.roomTtlMs, '2h'))
    .addOption(new Option('--reap-after <duration>', 'Redis: an instance silent this long is dead and its peers are removed').env('REAP_AFTER').argParser(parseDuration).default(DEFAULT_REDIS_OPTIONS.reapAfterMs, '15s'))
    .addOption(
      new Option('--compat <mode>', 'wire compatibility: none, or sleap-rtc for the deployed Python clients')
        .env('SLEAP_SIGNAL_COMPAT')
        .argParser(parseChoice(['none', 'sleap-rtc'] as const))
        .default(d.compat),
    )
    .addOption(new Option('--max-payload <size>', 'largest accepted frame (close 1009 above)').env('MAX_PAYLOAD').argParser(parseSize).default(DEFAULT_LIMITS.maxPayloadBytes, '1MiB'))
    .addOption(new Option('--max-connections <n>', 'open connections per instance (close 1013 above)').env('MAX_CONNECTIONS').argParser(parseInteger(1)).default(d.maxConnections))
    .addOption(new Option('--max-peers-per-room <n>', 'peers in one room (ROOM_FULL above)').env('MAX_PEERS_PER_ROOM').argParser(parseInteger(1)).default(DEFAULT_LIMITS.maxPeersPerRoom))
    .addOption(
      new Option('--rate-limit <rate[:burst]>', 'messages per second and burst per connection (RATE_LIMITED above)')
        .env('RATE_LIMIT')
        .argParser(parseRateLimit)
        .default({ perSecond: DEFAULT_LIMITS.ratePerSecond, burst: DEFAULT_LIMITS.rateBurst }, '100:200'),
    )
    .addOption(
      new Option('--byte-rate-limit <size[:burst]>', 'received bytes per second and burst per connection (RATE_LIMITED above; the burst is at least --max-payload)')
        .env('BYTE_RATE_LIMIT')
        .argParser(parseByteRate)
        .default(d.byteRate, '1MiB:2MiB'),
    )
    .addOption(
      new Option('--unregistered-max-frame <size>', 'largest frame from a connection that has not registered yet (INVALID_MESSAGE above, unparsed), and its bytes per second until it registers')
        .env('UNREGISTERED_MAX_FRAME')
        .argParser(parseSize)
        .default(d.unregisteredMaxFrameBytes, '64KiB'),
    )
    .addOption(new Option('--heartbeat-interval <duration>', 'protocol ping interval; dead peers go within two').env('HEARTBEAT_INTERVAL').argParser(parseDuration).default(d.heartbeatIntervalMs, '30s'))
    .addOption(new Option('--send-buffer-limit <size>', 'bytes queued for one client before it is closed with 4001').env('SEND_BUFFER_LIMIT').argParser(parseSize).default(d.sendBufferLimitBytes, '4MiB'))
    .addOption(new Option('--drain-timeout <duration>', 'window over which SIGTERM spreads its 1012 closes').env('DRAIN_TIMEOUT').argParser(parseDuration).default(d.drainTimeoutMs, '10s'))
    .addOption(new Option('--operator-token <token>', 'bearer token required by the operator HTTP endpoints').env('OPERATOR_TOKEN'))
    .addOption(new Option('--auth <mode>', 'none (credentials ignored), keys (API keys), jwt (JWTs and API keys)').env('AUTH').argParser(parseChoice(['none', 'keys', 'jwt'] as const)).default('none'))
    .addOption(new Option('--jwks-url <url>', 'JWKS of the token issuer (jwt mode)').env('JWKS_URL'))
    .addOption(new Option('--jwt-key-file <file>', 'local PEM public key or JWKS file, for air-gapped sites (jwt mode)').env('JWT_KEY_FILE'))
    .addOption(new Option('--jwt-issuer <iss>', 'expected iss of tokens (with --jwks-url or --jwt-key-file)').env('JWT_ISSUER'))
    .addOption(new Option('--jwt-audience <aud>', 'expected aud of tokens (with --jwks-url or --jwt-key-file)').env('JWT_AUDIENCE'))
    .addOption(new Option('--jwt-clock-skew <duration>', 'clock skew allowed on exp and nbf').env('JWT_CLOCK_SKEW').argParser(parseDuration).default(30_000, '30s'))
    .addOption(new Option('--cognito-region <region>', 'AWS Cognito region (derives JWKS URL and issuer)').env('COGNITO_REGION'))
    .addOption(new Option('--cognito-user-pool-id <id>', 'AWS Cognito user pool id').env('COGNITO_USER_POOL_ID'))
    .addOption(new Option('--cognito-client-id <id>', 'AWS Cognito app client id (aud of id tokens, client_id of access tokens)').env('COGNITO_CLIENT_ID'))
    .addOption(new Option('--rooms <mode>', 'open: any room id; token: rooms are created first and joined with their token').env('ROOMS').argParser(parseChoice(['open', 'token'] as const)).default(d.rooms))
    .addOption(new Option('--room-expires <duration>', 'lifetime of a created room when the request names none').env('ROOM_EXPIRES').argParser(parseDuration).default(d.roomExpiresMs, '24h'))
    .addOption(new Option('--allowed-origins <list>', 'comma-separated browser origins allowed to connect (clients without Origin always are)').env('ALLOWED_ORIGINS').argParser(parseList))
    .addOption(new Option('--ice-servers <json>', 'JSON list of RTCIceServer objects (urls, username, credential) handed to every peer in registered').env('ICE_SERVERS'))
    .addOption(new Option('--turn-secret <secret>', 'TURN REST secret shared with the TURN server (coturn --static-auth-secret): each peer gets a credential minted for it').env('TURN_SECRET'))
    .addOption(new Option('--turn-urls <list>', 'comma-separated turn:/turns: URLs handed with the minted credentials (with --turn-secret)').env('TURN_URLS').argParser(orUsage(parseTurnUrls)))
    .addOption(new Option('--turn-ttl <duration>', 'lifetime of a minted TURN credential').env('TURN_TTL').argParser(parseDuration).default(DEFAULT_TURN_TTL_MS, '24h'))
    .addOption(new Option('--max-connections-per-ip <n>', 'open connections per remote address, 0 for no limit (close 1013 above)').env('MAX_CONNECTIONS_PER_IP').argParser(parseInteger(0)).default(d.maxConnectionsPerIp))
    .addOption(new Option('--trust-proxy', 'behind a reverse proxy: count connections per address from X-Forwarded-For').env('TRUST_PROXY'))
    .addOption(new Option('--handshake-timeout <duration>', 'time for an HTTP request or upgrade to arrive complete').env('HANDSHAKE_TIMEOUT').argParser(parseDuration).default(d.handshakeTimeoutMs, '10s'))
    .addOption(new Option('--listen-backlog <n>', 'connections the kernel queues before they are accepted (capped by net.core.somaxconn)').env('LISTEN_BACKLOG').argParser(parseInteger(1, 65535)).default(d.listenBacklog))
    .addOption(new Option('--metrics-token <token>', 'bearer token required by GET /metrics').env('METRICS_TOKEN'))
    .addOption(new Option('--admin-port <port>', 'serve /metrics and the operator endpoints on this port only').env('ADMIN_PORT').argParser(parseInteger(0, 65535)))
    .addOption(new Option('--log-level <level>', 'log level').env('LOG_LEVEL').argParser(parseChoice(LOG_LEVELS)).default('info'))
    .addOption(new Option('--log-format <format>', 'json lines, or pretty for a terminal').env('LOG_FORMAT').argParser(parseChoice(['json', 'pretty'] as const)).default('json'))
    .addOption(new Option('--config <file>', 'read settings from a JSON or YAML file (keys: these flags without dashes; a flag or env var wins)').env('CONFIG_FILE'))
    .addOption(new Option('--print-config', 'print the resolved settings (secrets redacted) and where each came from, then exit'))
    .addOption(new Option('--print-config-schema', 'print the JSON Schema of a --config file, then exit').hideHelp())
    .action(async (_flags: ServeFlags, command: Command) => {
      if (command.getOptionValue('printConfigSchema') === true) {
        process.stdout.write(`${JSON.stringify(configSchema(command), null, 2)}\n`);
        return;
      }
      const path = command.getOptionValue('config') as string | undefined;
      if (path !== undefined) applyConfig(command, path, readConfigFile(path));
      if (command.getOptionValue('printConfig') === true) {
        process.stdout.write(`${JSON.stringify(resolvedConfig(command), null, 2)}\n`);
        return;
      }
      await runServe(command.opts<ServeFlags>());
    });
}

async function runServe(flags: ServeFlags): Promise<void> {
  checkRedisFlags(flags.redis, flags.redisCluster);
  const jwt = jwtConfig(flags);
  const iceServers = iceServersConfig(flags);
  const turn = turnConfig(flags);
  const logger = createLogger(flags.logLevel, flags.logFormat);
  if (flags.redis !== undefined && flags.redisCluster !== undefined) throw new UsageError('give --redis or --redis-cluster, not both');
  const shared = { prefix: flags.prefix, roomTtlMs: flags.roomTtl, reapAfterMs: flags.reapAfter };
  const state = await createStateBackend(
    flags.redisCluster !== undefined
      ? { kind: 'redis', url: '', cluster: flags.redisCluster, ...shared }
      : flags.redis !== undefined
        ? { kind: 'redis', url: flags.redis, ...shared }
        : { kind: 'memory' },
  );
  const server = new SignalingServer(
    {
      host: flags.host,
      port: flags.port,
      compat: flags.compat,
      maxConnections: flags.maxConnections,
      heartbeatIntervalMs: flags.heartbeatInterval,
      sendBufferLimitBytes: flags.sendBufferLimit,
      drainTimeoutMs: flags.drainTimeout,
      operatorToken: flags.operatorToken ?? null,
      version: VERSION,
      auth: flags.auth,
      jwt,
      rooms: flags.rooms,
      roomExpiresMs: flags.roomExpires,
      allowedOrigins: flags.allowedOrigins ?? null,
      iceServers,
      turn,
      maxConnectionsPerIp: flags.maxConnectionsPerIp,
      byteRate: flags.byteRateLimit,
      unregisteredMaxFrameBytes: flags.unregisteredMaxFrame,
      trustProxy: flags.trustProxy === true,
      handshakeTimeoutMs: flags.handshakeTimeout,
      listenBacklog: flags.listenBacklog,
      metricsToken: flags.metricsToken ?? null,
      adminPort: flags.adminPort ?? null,
      limits: {
        maxPayloadBytes: flags.maxPayload,
        maxPeersPerRoom: flags.maxPeersPerRoom,
        ratePerSecond: flags.rateLimit.perSecond,
        rateBurst: flags.rateLimit.burst,
      },
    },
    { logger, state },
  );
  await server.start();
  if (!isLoopback(flags.host) && flags.auth === 'none') {
    server.log.warn({ event: 'no_auth', host: flags.host }, 'listening beyond loopback with no authentication: anyone who can reach this port can join any room');
  }
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      server.log.info({ event: 'signal', signal }, 'draining; send the signal again to stop at once');
      void server.drain().then(() => exit(0));
    } else {
      server.log.info({ event: 'signal', signal }, 'stopping at once');
      void server.stop().then(() => exit(0));
    }
  };
  const exit = (code: number) => {
    logger.flush();
    setImmediate(() => process.exit(code));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

/** The JWT settings, checked: jwt mode needs exactly one key source. */
function jwtConfig(flags: ServeFlags): JwtConfig | null {
  const cognito = [flags.cognitoRegion, flags.cognitoUserPoolId, flags.cognitoClientId];
  const cognitoGiven = cognito.filter((v) => v !== undefined).length;
  if (flags.auth !== 'jwt') {
    if (flags.jwksUrl || flags.jwtKeyFile || cognitoGiven > 0) {
      throw new UsageError('JWT settings are given but --auth is not jwt');
    }
    return null;
  }
  if (cognitoGiven > 0 && cognitoGiven < 3) {
    throw new UsageError('Cognito needs all of --cognito-region, --cognito-user-pool-id and --cognito-client-id');
  }
  const sources = [cognitoGiven === 3, flags.jwksUrl !== undefined, flags.jwtKeyFile !== undefined].filter(Boolean).length;
  if (sources !== 1) throw new UsageError('--auth jwt needs exactly one of: the Cognito settings, --jwks-url, --jwt-key-file');
  return {
    jwksUrl: flags.jwksUrl,
    keyFile: flags.jwtKeyFile,
    issuer: flags.jwtIssuer,
    audience: flags.jwtAudience,
    cognito: cognitoGiven === 3 ? { region: flags.cognitoRegion!, userPoolId: flags.cognitoUserPoolId!, clientId: flags.cognitoClientId! } : undefined,
    clockSkewSeconds: Math.round(flags.jwtClockSkew / 1000),
    jwksCooldownMs: 30_000,
  };
}

const DEFAULT_TURN_TTL_MS = 24 * 3_600_000;

/** An option parser from a parse function returning errors as values (commander reports them, exit 2). */
function orUsage<T>(parse: (text: string) => Parsed<T>): (text: string) => T {
  return (text) => {
    const parsed = parse(text);
    if (!parsed.ok) throw new InvalidArgumentError(parsed.message);
    return parsed.value;
  };
}

/**
 * --ice-servers, parsed here rather than by commander, whose message would quote the value (and
 * the TURN passwords in it).
 */
function iceServersConfig(flags: ServeFlags): IceServer[] {
  if (flags.iceServers === undefined) return [];
  const parsed = parseIceServers(flags.iceServers);
  if (!parsed.ok) throw new UsageError(`--ice-servers (or ICE_SERVERS): ${parsed.message}`);
  return parsed.value;
}

/** The TURN settings, checked: the secret and the URLs come together. */
function turnConfig(flags: ServeFlags): TurnConfig | null {
  if (flags.turnSecret === undefined && flags.turnUrls === undefined) return null;
  if (flags.turnSecret === '') throw new UsageError('--turn-secret is empty');
  if (flags.turnSecret === undefined) throw new UsageError('--turn-urls needs --turn-secret (or TURN_SECRET)');
  if (flags.turnUrls === undefined) throw new UsageError('--turn-secret needs --turn-urls (or TURN_URLS)');
  const ttlSeconds = Math.floor(flags.turnTtl / 1000);
  if (ttlSeconds < 1) throw new UsageError('--turn-ttl must be at least 1s');
  return { secret: flags.turnSecret, urls: flags.turnUrls, ttlSeconds };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}
