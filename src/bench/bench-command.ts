import { Command, Option } from 'commander';
import { parseChoice, parseDurationText, parseInteger, parseNumber, parseSize } from '../options/option-parsers.js';
import { UsageError } from '../options/usage-error.js';
import { BenchError } from './bench-error.js';
import { collect, collectThreshold, parseMix, type BenchFlags } from './bench-flags.js';
import { runBenchCommand } from './bench-run-command.js';
import { compareCommand } from './compare.js';
import { doctorCommand } from './doctor.js';
import { writeHtmlReport, writeSvgPlots } from './html-report.js';
import { readJsonReport } from './report-json.js';
import { reportJsonSchema } from './report-schema.js';
import { shippedScenarioNames } from './scenario/load.js';
import { ARRIVALS, PATTERNS, scenarioJsonSchema, TRAFFIC_MODELS } from './scenario/schema.js';

/** The `bench` command: its flags and its subcommands (compare, render, doctor, schema). */

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
