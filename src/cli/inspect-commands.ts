import { checkServerUrl, serverUrlOptions, withTarget, type AdminFlags } from './admin-options.js';
import { Command, InvalidArgumentError, Option } from 'commander';
import { parseDuration, parseInteger, parseList } from '../options/option-parsers.js';
import { UsageError } from '../options/usage-error.js';
import { outputOptions, wantsJson } from './output-option.js';
import { checkRedisFlags } from './redis-flags.js';
import { compileFilters } from '../protocol/filters.js';
import { DEFAULT_REDIS_OPTIONS } from '../state/redis/redis-options.js';
import { colorLevel } from './color.js';
import { styles, type Styles } from '../inspect/format.js';
import { kickJson, renderJson, roomDeleteJson, type RoomFilter } from '../admin/json-output.js';
import { DEFAULT_KICK_REASON } from '../admin/peer-removal.js';
import { kickText, peerTable, roomDeleteText, roomsTable, roomTable, serversTable, statsTable } from '../inspect/tables.js';
import { watch } from '../inspect/watch.js';
import { clean } from '../inspect/columns.js';
import type { InspectSource } from '../inspect/inspect-source.js';
import { HttpSource } from '../inspect/http-source.js';
import { RedisSource } from '../inspect/redis-source.js';

interface ConnectionFlags {
  redis?: string;
  redisCluster?: string[];
  prefix: string;
  timeout: number;
  /** A running server to read through instead of Redis (wins over --redis). */
  url?: string;
  operatorToken?: string;
  output?: string;
  json?: boolean;
}

interface WatchFlags {
  watch?: boolean;
  /** Milliseconds between redraws, when watching. */
  interval: number;
}

interface RoomsFlags extends ConnectionFlags, WatchFlags {
  limit?: number;
  all?: boolean;
}

interface RoomFlags extends ConnectionFlags, WatchFlags {
  role?: string;
  tag?: string[];
}

interface KickFlags extends ConnectionFlags {
  reason: string;
}

/** Everything a command run needs: where it reads, how to print. */
interface Session {
  readonly source: InspectSource;
  readonly styles: Styles;
}

const DEFAULT_WATCH_MS = 2000;
/** Longest close reason a WebSocket close frame can carry. */
const MAX_REASON_BYTES = 123;

/**
 * The operator commands (rooms, room, peer, servers, stats, kick): straight on the Redis keys of
 * `serve --redis`, or through a running server's operator endpoints (`--url`, either backend).
 */
export function inspectCommands(): Command[] {
  return [roomsCommand(), roomCommand(), peerCommand(), serversCommand(), statsCommand(), kickCommand()];
}

function roomsCommand(): Command {
  return watchable(
    connection(new Command('rooms'))
      .description('list active rooms: peer count, peers by role, age, expiry (most recently used first)')
      .addOption(new Option('--limit <n>', 'show only the N most recently used rooms').argParser(parseInteger(1)))
      .option('--all', 'also list rooms without peers whose records have not expired yet'),
  ).action(async (flags: RoomsFlags) => {
    await run(flags, async (s) => {
      const read = async () => {
        const shown = await s.source.rooms({ limit: flags.limit, includeEmpty: flags.all === true });
        if (wantsJson(flags)) return renderJson(shown.document, flags.watch === true);
        return roomsTable(shown.view, shown.now, s.styles, shown.emptyPrefix);
      };
      await show(read, flags, s);
    });
  });
}

function roomCommand(): Command {
  const command = watchable(
    connection(new Command('room'))
      .description('show one room: its peers with role, tags, properties, instance and connected time ("room delete ROOM_ID" removes it)')
      .argument('<room_id>', 'the room to show')
      .addOption(new Option('--role <role>', 'only peers with this role'))
      .addOption(new Option('--tag <tag>', 'only peers with this tag (repeat: any of them)').argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v])),
  )
    .helpCommand(false)
    .action(async (roomId: string, flags: RoomFlags) => {
      const filter: RoomFilter = { role: flags.role ?? null, tags: flags.tag ?? [] };
      const compiled = compileFilters({ role: filter.role, tags: [...filter.tags] });
      if (!compiled.ok) throw new UsageError(compiled.error.message);
      await run(flags, async (s) => {
        const read = async () => {
          const { view, document, now } = await s.source.room(roomId, filter);
          return wantsJson(flags) ? renderJson(document, flags.watch === true) : roomTable(view.room, view.peers, view.filter, now, s.styles);
        };
        await show(read, flags, s);
      });
    });
  command.addCommand(roomDeleteCommand());
  command.addCommand(roomCreateCommand());
  return command;
}

/** `room create`: a room for `--rooms token`, its token printed once. */
function roomCreateCommand(): Command {
  return new Command('create')
    .description('create a room for --rooms token and print its token once (through --redis, or a server\'s --url)')
    .argument('[room_id]', 'the room id (default: a generated one)')
    .option('--expires <duration>', 'lifetime of the room (default 24h)', parseDuration)
    .addOption(serverUrlOptions()[0])
    .addOption(serverUrlOptions()[1])
    .addHelpText('after', '\nAlso takes the connection options of "room": --redis (env: REDIS_URL), --prefix (env: REDIS_PREFIX), --json.')
    .helpOption('-h, --help', 'show help for this command')
    .exitOverride()
    .action(async (roomId: string | undefined, _own: unknown, command: Command) => {
      const flags = command.optsWithGlobals<AdminFlags & { expires?: number }>();
      const created = await withTarget(flags, (t) => t.createRoom(roomId ?? null, flags.expires === undefined ? null : Math.ceil(flags.expires / 1000)));
      if (wantsJson(flags)) write(`${JSON.stringify(created, null, 2)}\n`);
      else write(`room ${clean(created.room_id)}, token ${created.token}, expires ${new Date(created.expires_at * 1000).toISOString().replace('.000Z', 'Z')}\n`);
    });
}

function roomDeleteCommand(): Command {
  return new Command('delete')
    .description('remove every peer of a room (each instance closes its connections with 1000) and the room itself')
    .argument('<room_id>', 'the room to delete')
    .addOption(reasonOption())
    .addHelpText(
      'after',
      '\nAlso takes the connection options of "room": --redis (env: REDIS_URL), --prefix (env: REDIS_PREFIX), --timeout, --json,\n' +
        'or --url (env: SLEAP_SIGNAL_URL) with --operator-token (env: OPERATOR_TOKEN) to go through a server.',
    )
    .helpOption('-h, --help', 'show help for this command')
    .exitOverride()
    .action(async (roomId: string, _own: unknown, command: Command) => {
      // --redis, --prefix, --timeout and --json are the parent's options (commander gives them to `room`).
      const flags = command.optsWithGlobals<RoomFlags & KickFlags>();
      if (flags.watch === true || flags.role !== undefined || flags.tag !== undefined) {
        throw new UsageError('room delete takes no --watch, --role or --tag');
      }
      await run(flags, async (s) => {
        const result = await s.source.deleteRoom(roomId, flags.reason);
        write(wantsJson(flags) ? renderJson(roomDeleteJson(result, Date.now())) : roomDeleteText(result, s.styles));
      });
    });
}

function peerCommand(): Command {
  return connection(new Command('peer'))
    .description('show everything known about one peer: room, role, full metadata, instance, connected since')
    .argument('<peer_id>', 'the peer to show')
    .action(async (peerId: string, flags: ConnectionFlags) => {
      await run(flags, async (s) => {
        const { view, document, now } = await s.source.peer(peerId);
        write(wantsJson(flags) ? renderJson(document) : peerTable(view, now, s.styles));
      });
    });
}

function serversCommand(): Command {
  return watchable(
    connection(new Command('servers')).description(
      'list instances: address, connections, peers, version, uptime, last heartbeat; lapsed ones show as dead until reaped',
    ),
  ).action(async (flags: ConnectionFlags & WatchFlags) => {
    await run(flags, async (s) => {
      const read = async () => {
        const { view, document, now } = await s.source.servers();
        return wantsJson(flags) ? renderJson(document, flags.watch === true) : serversTable(view, now, s.styles);
      };
      await show(read, flags, s);
    });
  });
}

function statsCommand(): Command {
  return watchable(
    connection(new Command('stats')).description('one summary of the cluster: instances, connections, rooms, peers, messages relayed per second'),
  ).action(async (flags: ConnectionFlags & WatchFlags) => {
    await run(flags, async (s) => {
      const read = async () => {
        const { view, document } = await s.source.stats();
        return wantsJson(flags) ? renderJson(document, flags.watch === true) : statsTable(view, s.styles);
      };
      await show(read, flags, s);
    });
  });
}

function kickCommand(): Command {
  return connection(new Command('kick'))
    .description('remove a peer: its instance closes the connection (1000) and its room hears peer_left "kicked"')
    .argument('<peer_id>', 'the peer to remove')
    .addOption(reasonOption())
    .action(async (peerId: string, flags: KickFlags) => {
      await run(flags, async (s) => {
        const result = await s.source.kick(peerId, flags.reason);
        write(wantsJson(flags) ? renderJson(kickJson(result, Date.now())) : kickText(result, s.styles));
      });
    });
}

// ---- shared options

function connection(command: Command): Command {
  return command
    .addOption(new Option('--redis <url>', 'the Redis the instances share (redis://[:password@]host:port[/db])').env('REDIS_URL'))
    .addOption(
      new Option('--redis-cluster <nodes>', 'or the Redis Cluster they share (comma-separated host:port seed nodes)')
        .env('REDIS_CLUSTER')
        .argParser(parseList),
    )
    .addOption(new Option('--prefix <prefix>', 'prefix of every Redis key and channel (as given to serve)').env('REDIS_PREFIX').default(DEFAULT_REDIS_OPTIONS.prefix))
    .addOption(new Option('--timeout <duration>', 'give up when Redis does not accept the connection within this').argParser(parseDuration).default(3000, '3s'))
    .addOption(serverUrlOptions()[0])
    .addOption(serverUrlOptions()[1])
    .addOption(outputOptions()[0]!)
    .addOption(outputOptions()[1]!);
}

function watchable(command: Command): Command {
  return command
    .addOption(new Option('--watch', 'redraw every --interval until Ctrl-C; with -o json, one document per line'))
    .addOption(new Option('--interval <duration>', 'time between redraws with --watch (seconds, or 500ms, 1m)').argParser(parseWatchInterval).default(DEFAULT_WATCH_MS, '2s'));
}

function reasonOption(): Option {
  return new Option('--reason <text>', 'close reason the client gets').default(DEFAULT_KICK_REASON).argParser((value: string) => {
    if (Buffer.byteLength(value, 'utf8') > MAX_REASON_BYTES) throw new InvalidArgumentError(`at most ${MAX_REASON_BYTES} bytes (a WebSocket close reason)`);
    return value;
  });
}

/** Seconds ("5", "0.5") or a duration ("500ms", "1m"); returns milliseconds. */
function parseWatchInterval(value: string): number {
  const ms = parseDuration(value);
  if (ms < 100) throw new InvalidArgumentError(`expected at least 0.1 seconds, got "${value}"`);
  return ms;
}

// ---- running a command

async function run(flags: ConnectionFlags & Partial<WatchFlags>, body: (s: Session) => Promise<void>): Promise<void> {
  const source = await openSource(flags);
  try {
    await body({ source, styles: styles(colorLevel(process.stdout)) });
  } finally {
    await source.close();
  }
}

/** A running server when --url is given (it wins over --redis, as for `keys`), else the shared Redis. */
async function openSource(flags: ConnectionFlags & Partial<WatchFlags>): Promise<InspectSource> {
  if (flags.url !== undefined) return new HttpSource(checkServerUrl(flags.url), flags.operatorToken ?? null);
  const cluster = flags.redisCluster;
  const url = cluster ? `redis-cluster://${cluster.join(',')}` : flags.redis;
  if (url === undefined || url === '') {
    throw new UsageError('no Redis to read: give --redis <url> (or --redis-cluster), or set REDIS_URL; or read a running server with --url http://host:port');
  }
  checkRedisFlags(cluster ? undefined : url, cluster);
  return RedisSource.open({ url, cluster, prefix: flags.prefix, connectTimeoutMs: flags.timeout, reconnect: flags.watch === true });
}

/** Prints one frame, or keeps redrawing with --watch until Ctrl-C. */
async function show(read: () => Promise<string>, flags: WatchFlags & { output?: string; json?: boolean }, s: Session): Promise<void> {
  if (flags.watch !== true) {
    write(await read());
    return;
  }
  const frame = async () => {
    const notReady = s.source.notReady();
    if (notReady !== null) throw new Error(notReady);
    return read();
  };
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await watch(frame, { intervalMs: flags.interval, out: process.stdout, err: process.stderr, json: wantsJson(flags), styles: s.styles, signal: stop.signal });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function write(text: string): void {
  process.stdout.write(text);
}
