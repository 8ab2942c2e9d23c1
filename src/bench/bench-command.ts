import { Command, InvalidArgumentError, Option } from 'commander';
import { parseThreshold } from './thresholds.js';
import { unreachableLine } from './unreachable.js';
import chalk from 'chalk';
import { parseChoice, parseDurationText, parseInteger, parseNumber, parseSize } from '../options/option-parsers.js';
import { UsageError } from '../options/usage-error.js';
import { BenchError } from './bench-error.js';
import { compareCommand } from './compare.js';
import { doctorCommand } from './doctor.js';
import { writeHgrmFiles } from './hgrm.js';
import { writeHtmlReport, writeSvgPlots } from './html-report.js';
import { ProgressLine } from './progress.js';
import { readJsonReport, writeJsonReport } from './report-json.js';
import { reportJsonSchema } from './report-schema.js';
import { renderReport } from './report-table.js';
import { runBench } from './runner.js';
import { defaultThreads } from './thread-split.js';
import { loadScenario, shippedScenarioNames } from './scenario/load.js';
import { ARRIVALS, MIX_OPS, PATTERNS, scenarioJsonSchema, TRAFFIC_MODELS } from './scenario/schema.js';
import { ServerCpuProbe } from './server-cpu.js';
import { SpawnedServers } from './spawn.js';

interface BenchFlags {
  svg?: string;
  url?: string[];
  spawn?: number;
  redis?: string;
  prefix?: string;
  spawnNodeOptions?: string;
  threads?: string;
  sourceAddress?: string[];
  peers?: number;
  rooms?: number;
  roomSpread?: string;
  urlSpread?: string;
  crossShare?: number;
  workerShare?: number;
  presence?: boolean;
  connectRate?: number;
  maxInFlight?: number;
  connectTimeout?: string;
  warmup?: string;
  duration?: string;
  drain?: string;
  model?: string;
  inFlight?: number;
  rate?: number;
  arrival?: string;
  pattern?: string;
  payload?: number;
  mix?: Record<string, number>;
  churn?: number;
  churnDowntime?: string;
  churnMode?: string;
  seed?: number;
  serverRateLimit?: string;
  maxEventLoopP99?: string;
  threshold?: string[];
  report?: string;
  /** Old name of --report. */
  json?: string;
  hgrm?: string;
  html?: string;
  quiet?: boolean;
  progress: boolean;
  check?: boolean;
}

/** Flag → scenario path, for overrides and for naming the flag in validation errors. */
const FLAG_PATHS: [keyof BenchFlags, string, string][] = [
  ['peers', '/peers', '--peers'],
  ['rooms', '/rooms', '--rooms'],
  ['roomSpread', '/room_spread', '--room-spread'],
  ['urlSpread', '/url_spread', '--url-spread'],
  ['crossShare', '/cross_instance_share', '--cross-share'],
  ['workerShare', '/roles/worker_share', '--worker-share'],
  ['presence', '/roles/presence', '--presence'],
  ['connectRate', '/connect/rate', '--connect-rate'],
  ['maxInFlight', '/connect/max_in_flight', '--max-in-flight'],
  ['connectTimeout', '/connect/timeout', '--connect-timeout'],
  ['warmup', '/warmup', '--warmup'],
  ['duration', '/duration', '--duration'],
  ['drain', '/drain', '--drain'],
  ['model', '/traffic/model', '--model'],
  ['inFlight', '/traffic/in_flight', '--in-flight'],
  ['rate', '/traffic/rate', '--rate'],
  ['arrival', '/traffic/arrival', '--arrival'],
  ['pattern', '/traffic/pattern', '--pattern'],
  ['payload', '/traffic/payload_bytes', '--payload'],
  ['mix', '/traffic/mix', '--mix'],
  ['churn', '/churn/rate', '--churn'],
  ['churnDowntime', '/churn/downtime', '--churn-downtime'],
  ['churnMode', '/churn/mode', '--churn-mode'],
  ['seed', '/seed', '--seed'],
  ['serverRateLimit', '/server/rate_limit', '--server-rate-limit'],
  ['maxEventLoopP99', '/validity/max_event_loop_p99', '--max-event-loop-p99'],
];

const collect = (v: string, prev: string[] | undefined) => [...(prev ?? []), v];

/** A --threshold is checked as it is read: a bad one is the flag's fault, not the scenario file's. */
const collectThreshold = (v: string, prev: string[] | undefined) => {
  try {
    parseThreshold(v);
  } catch (err) {
    throw new InvalidArgumentError(err instanceof Error ? err.message : String(err));
  }
  return collect(v, prev);
};

/** "relay=8,discover=1,offer_answer=1": weights; operations not named get 0. */
function parseMix(value: string): Record<string, number> {
  const mix: Record<string, number> = Object.fromEntries(MIX_OPS.map((op) => [op, 0]));
  for (const part of value.split(',')) {
    const m = /^\s*([a-z_]+)\s*[=:]\s*(\d+(?:\.\d+)?)\s*$/.exec(part);
    if (!m || !(MIX_OPS as readonly string[]).includes(m[1]!)) {
      throw new InvalidArgumentError(`expected OP=WEIGHT,... with OP one of ${MIX_OPS.join(', ')}; got "${value}"`);
    }
    mix[m[1]!] = Number(m[2]);
  }
  return mix;
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('/').filter(Boolean);
  let node = target;
  for (const part of parts.slice(0, -1)) {
    node[part] ??= {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1]!] = value;
}

export function benchCommand(): Command {
  const bench = new Command('bench')
    .description('load-test signaling servers with simulated peers; exit 0 passed, 99 a threshold failed, 3 invalid run, 2 bad usage, 1 tool error (nothing reached)')
    // Options after a subcommand's name (render --html) belong to the subcommand.
    .enablePositionalOptions()
    .argument('[scenario]', `scenario file, or a shipped scenario: ${shippedScenarioNames().join(', ')}`)
    .addOption(new Option('--url <url>', 'target server WebSocket URL (repeat for several instances)').argParser(collect))
    .addOption(new Option('--spawn <n>', 'start N local serve instances, bench them, stop them').argParser(parseInteger(1, 16)))
    .addOption(new Option('--redis <url>', 'with --spawn: the instances share this Redis (needed for N > 1)'))
    .addOption(new Option('--prefix <prefix>', 'with --spawn --redis: Redis key prefix (default: a fresh one, deleted afterwards)'))
    .addOption(new Option('--spawn-node-options <options>', 'with --spawn: NODE_OPTIONS of the spawned servers (e.g. "--max-semi-space-size=32")'))
    .addOption(new Option('--threads <n>', "generator threads, or auto (the scenario's, else 1 below 5,000 peers, else 2)").default('auto'))
    .addOption(new Option('--source-address <ip>', 'local address to connect from (repeat to spread; default: 127.0.0.x beyond 25,000 per loopback target)').argParser(collect))
    .addOption(new Option('--peers <n>', 'simulated peers').argParser(parseInteger(1)))
    .addOption(new Option('--rooms <n>', 'rooms').argParser(parseInteger(1)))
    .addOption(new Option('--room-spread <how>', 'room sizes: even or zipf').argParser(parseChoice(['even', 'zipf'] as const)))
    .addOption(new Option('--url-spread <how>', 'spread over URLs by peer or by room').argParser(parseChoice(['peer', 'room'] as const)))
    .addOption(new Option('--cross-share <0..1>', 'share of relays between instances (several URLs)').argParser(parseNumber(0, 1)))
    .addOption(new Option('--worker-share <0..1>', 'share of peers that are workers').argParser(parseNumber(0, 1)))
    .addOption(new Option('--presence', 'peers subscribe to presence events'))
    .addOption(new Option('--connect-rate <n>', 'new connections per second during the ramp').argParser(parseNumber(0.001)))
    .addOption(new Option('--max-in-flight <n>', 'most handshakes in flight at once').argParser(parseInteger(1)))
    .addOption(new Option('--connect-timeout <duration>', 'connect and register timeout').argParser(parseDurationText))
    .addOption(new Option('--warmup <duration>', 'traffic before measuring').argParser(parseDurationText))
    .addOption(new Option('--duration <duration>', 'measured traffic').argParser(parseDurationText))
    .addOption(new Option('--drain <duration>', 'longest wait for messages in flight at the end').argParser(parseDurationText))
    .addOption(new Option('--model <model>', 'open (each peer on its own schedule at --rate) or closed (the next relay when one arrives: maximum throughput)').argParser(parseChoice(TRAFFIC_MODELS)))
    .addOption(new Option('--in-flight <n>', 'closed model: relays each peer keeps outstanding').argParser(parseInteger(1, 1000)))
    .addOption(new Option('--rate <n>', 'operations per second per peer (open model)').argParser(parseNumber(0)))
    .addOption(new Option('--arrival <process>', 'fixed or poisson').argParser(parseChoice(ARRIVALS)))
    .addOption(new Option('--pattern <pattern>', 'pairs, worker-client or fanout').argParser(parseChoice(PATTERNS)))
    .addOption(new Option('--payload <size>', 'relayed payload size (bytes, 1KiB, ...)').argParser(parseSize))
    .addOption(new Option('--mix <weights>', 'operation mix, e.g. relay=8,discover=1,update_metadata=0.5,offer_answer=0.5').argParser(parseMix))
    .addOption(new Option('--churn <n>', 'peers leaving and coming back per second').argParser(parseNumber(0)))
    .addOption(new Option('--churn-downtime <duration>', 'how long a churned peer stays away').argParser(parseDurationText))
    .addOption(new Option('--churn-mode <mode>', 'close (reconnect) or leave (re-register)').argParser(parseChoice(['close', 'leave'] as const)))
    .addOption(new Option('--seed <n>', 'random seed').argParser(parseInteger(0, 4294967295)))
    .addOption(new Option('--server-rate-limit <rate[:burst]>', "the target's rate limit per connection (--spawn starts servers with it)"))
    .addOption(new Option('--max-event-loop-p99 <duration>', 'invalid run above this generator event-loop delay').argParser(parseDurationText))
    .addOption(new Option('--threshold <expr>', 'pass/fail condition, e.g. relay.p99<20ms, errors==0, lost<0.1% (repeatable; added to the scenario\'s)').argParser(collectThreshold))
    .addOption(new Option('--report <file>', 'write the JSON report (versioned, mergeable histograms); - for stdout'))
    .addOption(new Option('--json <file>', 'the same as --report (kept for old scripts)').hideHelp())
    .addOption(new Option('--hgrm <dir>', 'write a percentile distribution file (.hgrm) per operation'))
    .addOption(new Option('--html <file>', 'write a self-contained HTML report with plots'))
    .addOption(new Option('--svg <dir>', 'write each plot of the HTML report as a standalone SVG file (for documents)'))
    .addOption(new Option('--quiet', 'print nothing but errors (exit code and files only)'))
    .addOption(new Option('--no-progress', 'no live progress line'))
    .addOption(new Option('--check', 'validate the scenario and print it as it would run; connect to nothing'))
    .action(async (scenarioArg: string | undefined, flags: BenchFlags) => {
      try {
        await runBenchCommand(scenarioArg, flags);
      } catch (err) {
        throw asUsageError(err);
      }
    });
  bench.addCommand(compareCommand().exitOverride());
  bench.addCommand(renderSubcommand().exitOverride());
  bench.addCommand(doctorCommand().exitOverride());
  bench.addCommand(schemaSubcommand().exitOverride());
  return bench;
}

/** The bench's refusals are the caller's to fix: the command line says them as bad usage (exit 2). */
function asUsageError(err: unknown): unknown {
  return err instanceof BenchError ? new UsageError(err.message) : err;
}

function renderSubcommand(): Command {
  return new Command('render')
    .description('write the HTML report and/or SVG plots of a saved JSON report')
    .argument('<report>', 'JSON report written by bench --json')
    .addOption(new Option('--html <file>', 'write the self-contained HTML report'))
    .addOption(new Option('--svg <dir>', 'write each plot as a standalone SVG file'))
    .action(async (path: string, flags: { html?: string; svg?: string }) => {
      if (!flags.html && !flags.svg) throw new UsageError('bench render needs --html FILE and/or --svg DIR');
      const report = await readJsonReport(path);
      if (flags.html) await writeHtmlReport(flags.html, report);
      const files = flags.svg ? await writeSvgPlots(flags.svg, report) : [];
      for (const f of [...(flags.html ? [flags.html] : []), ...files]) process.stdout.write(`${f}\n`);
    });
}

function schemaSubcommand(): Command {
  return new Command('schema')
    .description('print the JSON Schema of scenario files or of JSON reports')
    .argument('<which>', 'scenario or report', parseChoice(['scenario', 'report'] as const))
    .action((which: 'scenario' | 'report') => {
      const schema = which === 'scenario' ? scenarioJsonSchema() : reportJsonSchema();
      process.stdout.write(`${JSON.stringify(schema, null, 2)}\n`);
    });
}

async function runBenchCommand(scenarioArg: string | undefined, flags: BenchFlags): Promise<void> {
  const overrides: Record<string, unknown> = {};
  const flagNames: Record<string, string> = {};
  for (const [key, path, flag] of FLAG_PATHS) {
    if (flags[key] === undefined) continue;
    flagNames[path] = flag;
    setPath(overrides, path, flags[key]);
  }
  if (flags.threshold) overrides.thresholds = flags.threshold;
  const loaded = await loadScenario(scenarioArg, overrides, flagNames);

  if (flags.check) {
    process.stdout.write(`${JSON.stringify(loaded.effective, null, 2)}\n`);
    return;
  }
  const urls = flags.url ?? [];
  if (flags.spawn !== undefined && urls.length > 0) throw new UsageError('give --url or --spawn, not both');
  if (flags.spawn === undefined && urls.length === 0) throw new UsageError('bench needs a target: --url ws://host:port (repeatable) or --spawn N');
  if (flags.spawnNodeOptions !== undefined && flags.spawn === undefined) throw new UsageError('--spawn-node-options goes with --spawn');
  if (flags.redis !== undefined && flags.spawn === undefined) throw new UsageError('--redis goes with --spawn (the servers given with --url bring their own state)');
  if (flags.redis !== undefined && !/^rediss?:\/\//.test(flags.redis)) throw new UsageError(`--redis must be a redis:// URL, got "${flags.redis}"`);
  if (flags.spawn !== undefined && flags.spawn > 1 && flags.redis === undefined) {
    throw new UsageError(`--spawn ${flags.spawn} needs --redis URL: instances share state only through Redis`);
  }
  for (const u of urls) {
    if (!/^wss?:\/\/[^/]+/.test(u)) throw new UsageError(`--url must be ws://host:port or wss://..., got "${u}"`);
  }
  let threads: number;
  if (flags.threads === undefined || flags.threads === 'auto') threads = loaded.scenario.threads ?? defaultThreads(loaded.scenario.peers);
  else if (/^\d+$/.test(flags.threads) && Number(flags.threads) >= 1 && Number(flags.threads) <= 64) threads = Number(flags.threads);
  else throw new UsageError(`--threads must be a number from 1 to 64, or auto; got "${flags.threads}"`);

  const reportPath = flags.report ?? flags.json;
  const say = (text: string) => {
    if (!flags.quiet) process.stderr.write(`${text}\n`);
  };
  let spawned: SpawnedServers | null = null;
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    if (flags.spawn !== undefined) {
      say(chalk.dim(`starting ${flags.spawn} serve instance(s)${flags.redis ? ` sharing ${flags.redis}` : ' (in memory)'} ...`));
      spawned = await SpawnedServers.start({ instances: flags.spawn, redis: flags.redis, prefix: flags.prefix, scenario: loaded.scenario, nodeOptions: flags.spawnNodeOptions });
      for (const i of spawned.instances) say(chalk.dim(`  ${i.url} (accepting ${(i.readyMs / 1000).toFixed(2)} s after launch)`));
    }
    const targets = spawned ? spawned.urls : urls;
    const progress = new ProgressLine(process.stderr, Boolean(process.stderr.isTTY) && !process.env.CI && flags.progress && !flags.quiet);
    say(
      chalk.dim(
        `bench ${loaded.scenario.name}: ${loaded.scenario.peers} peers in ${loaded.scenario.rooms} room(s) → ${targets.length} target(s), ` +
          `${threads} thread(s), warm-up ${loaded.scenario.warmupMs / 1000} s, measure ${loaded.scenario.durationMs / 1000} s`,
      ),
    );
    const report = await runBench({
      loaded,
      urls: targets,
      threads,
      sourceAddresses: flags.sourceAddress ?? 'auto',
      spawned: spawned ? { instances: spawned.instances.length, backend: flags.redis ? 'redis' : 'memory', ready_ms: spawned.instances.map((i) => i.readyMs) } : null,
      serverCpu: spawned ? new ServerCpuProbe(spawned.instances.map((i) => i.child.pid ?? -1), flags.redis) : undefined,
      onProgress: (p) => progress.update(p),
      signal: controller.signal,
    });
    progress.done();
    const unreachable = unreachableLine(report);
    if (unreachable !== null) {
      // Nothing was measured: one line, not a report of zeros, and a tool error rather than a verdict.
      process.stderr.write(`sleap-signal: ${unreachable}\n`);
      if (reportPath) await writeJsonReport(reportPath, report);
      process.exitCode = 1;
      return;
    }
    if (!flags.quiet) {
      const text = renderReport(report);
      if (reportPath === '-') process.stderr.write(text);
      else process.stdout.write(text);
    }
    if (reportPath) await writeJsonReport(reportPath, report);
    if (flags.hgrm) await writeHgrmFiles(flags.hgrm, report);
    if (flags.html) await writeHtmlReport(flags.html, report);
    if (flags.svg) await writeSvgPlots(flags.svg, report);
    process.exitCode = report.verdict.exit_code;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (spawned) await spawned.stop();
  }
}
