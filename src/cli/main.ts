import { Command, CommanderError } from 'commander';
import { VERSION } from '../version.js';
import { schemaCommand } from './schema-command.js';
import { serveCommand } from './serve-command.js';
import { smokeCommand } from './smoke-command.js';
import { benchCommand } from '../bench/bench-command.js';
import { inspectCommands } from '../inspect/inspect-commands.js';
import { keysCommand } from './keys-command.js';
import { UsageError } from './usage-error.js';

export function buildProgram(): Command {
  const program = new Command('sleap-signal')
    .description('Signaling server and operator toolkit for SLEAP-RTC')
    .version(VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help for a command')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();
  for (const command of [serveCommand(), smokeCommand(), ...inspectCommands(), keysCommand(), benchCommand(), schemaCommand()]) {
    program.addCommand(command);
  }
  // Subcommands built on their own do not inherit these settings: apply them to the whole tree.
  const configure = (command: Command) => {
    command.exitOverride().helpOption('-h, --help', 'show help for this command').showHelpAfterError('(add --help for usage)');
    command.commands.forEach(configure);
  };
  program.commands.forEach(configure);
  return program;
}

/** An empty environment variable (`PORT=`) means unset, as for most tools, not an empty value. */
function dropEmptyEnv(program: Command): void {
  const visit = (command: Command) => {
    for (const option of command.options) {
      const name = (option as { envVar?: string }).envVar;
      if (name !== undefined && process.env[name] === '') delete process.env[name];
    }
    command.commands.forEach(visit);
  };
  visit(program);
}

/** Runs the CLI; exit codes: 0 ok, 1 failure, 2 bad usage. */
export async function main(argv: readonly string[]): Promise<void> {
  try {
    const program = buildProgram();
    dropEmptyEnv(program);
    await program.parseAsync(argv as string[]);
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
