import { Command, Option } from 'commander';
import { documentHeader } from '../json-document.js';
import chalk from 'chalk';
import { runSmoke, type SmokeStep } from '../smoke/smoke-check.js';
import { parseDuration } from '../options/option-parsers.js';
import { UsageError } from '../options/usage-error.js';

interface SmokeFlags {
  url: string[];
  timeout: number;
  json?: boolean;
}

export function smokeCommand(): Command {
  return new Command('smoke')
    .description('end-to-end check of a deployment: two peers register, discover, message, offer/answer, leave')
    .addOption(
      new Option('--url <url>', 'server WebSocket URL; give it twice to put the peers on two instances')
        .env('SMOKE_URL')
        .argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]),
    )
    .addOption(new Option('--timeout <duration>', 'timeout of each step').argParser(parseDuration).default(5000, '5s'))
    .option('--json', 'print a machine-readable result instead of lines')
    .action(async (flags: SmokeFlags) => {
      const urls = flags.url ?? [];
      if (urls.length < 1 || urls.length > 2) throw new UsageError('smoke needs one or two --url');
      for (const u of urls) {
        if (!/^wss?:\/\//.test(u)) throw new UsageError(`--url must be ws:// or wss://, got ${u}`);
      }
      const print = (s: SmokeStep) => {
        const mark = s.ok ? chalk.green('✓') : chalk.red('✗');
        const time = `${s.ms.toFixed(1)} ms`.padStart(10);
        process.stdout.write(`${mark} ${time}  ${s.name}${s.error ? `\n    ${chalk.red(s.error)}` : ''}\n`);
      };
      const result = await runSmoke({ urls, stepTimeoutMs: flags.timeout }, flags.json ? undefined : print);
      if (flags.json) {
        const { roomId, totalMs, ...rest } = result;
        process.stdout.write(`${JSON.stringify({ ...documentHeader(), version: 1, ...rest, room_id: roomId, total_ms: totalMs }, null, 2)}\n`);
      } else {
        const failed = result.steps.find((s) => !s.ok);
        process.stdout.write(
          failed
            ? chalk.red(`smoke FAILED at "${failed.name}" after ${result.totalMs.toFixed(0)} ms\n`)
            : chalk.green(`smoke passed: ${result.steps.length} steps in ${result.totalMs.toFixed(0)} ms\n`),
        );
      }
      process.exitCode = result.ok ? 0 : 1;
    });
}
