import { Command, CommanderError } from 'commander';
import { VERSION } from '../version.js';
import { schemaCommand } from './schema-command.js';
import { serveCommand } from './serve-command.js';
import { smokeCommand } from './smoke-command.js';
import { benchCommand } from '../bench/bench-command.js';
import { inspectCommands } from '../inspect/inspect-commands.js';
import { UsageError } from './usage-error.js';

export function buildProgram(): Command {
  const program = new Command('sleap-signal')
    .description('Signaling server and operator toolkit for SLEAP-RTC')
    .version(VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help for a command')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();
  for (const command of [serveCommand(), smokeCommand(), ...inspectCommands(), benchCommand(), schemaCommand()]) {
    program.addCommand(command.exitOverride().helpOption('-h, --help', 'show help for this command'));
  }
  return program;
}

/** Runs the CLI; exit codes: 0 ok, 1 failure, 2 bad usage. */
export async function main(argv: readonly string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv as string[]);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit 0; everything commander rejects is bad usage.
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    if (err instanceof UsageError) {
      process.stderr.write(`sleap-signal: ${err.message}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`sleap-signal: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}
