import { Command, CommanderError } from 'commander';
import { VERSION } from '../version.js';
import { UsageError } from '../options/usage-error.js';
import { applyColorRule } from './color.js';
import { errorText } from '../net/error-text.js';

type CommandLoader = () => Promise<Command[]>;

const ENV_PREFIX = 'SLEAP_SIGNAL_';

/**
 * Each command's module is imported only when that command runs: an operator command must not pay
 * for loading the server, the bench and their dependencies. `--help` (no command) loads them all.
 */
const GROUPS: { names: readonly string[]; load: CommandLoader }[] = [
  { names: ['serve'], load: async () => [(await import('./serve-command.js')).serveCommand()] },
  { names: ['smoke'], load: async () => [(await import('./smoke-command.js')).smokeCommand()] },
  {
    names: ['rooms', 'room', 'peer', 'servers', 'stats', 'kick'],
    load: async () => (await import('./inspect-commands.js')).inspectCommands(),
  },
  { names: ['keys'], load: async () => [(await import('./keys-command.js')).keysCommand()] },
  { names: ['bench'], load: async () => [(await import('../bench/bench-command.js')).benchCommand()] },
  { names: ['schema'], load: async () => [(await import('./schema-command.js')).schemaCommand()] },
];

/** The program with the commands `argv` names (all of them when it names none, or an unknown one). */
export async function buildProgram(argv: readonly string[] = []): Promise<Command> {
  const program = new Command('sleap-signal')
    .description('Signaling server and operator toolkit for SLEAP-RTC')
    .version(VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help for a command')
    .showHelpAfterError('(add --help for usage)')
    // Lets a command's own subcommands take options the command also has (bench render --html).
    .enablePositionalOptions()
    .exitOverride();
  const first = argv.slice(2).find((a) => !a.startsWith('-'));
  const wanted = GROUPS.filter((g) => first !== undefined && g.names.includes(first));
  const groups = wanted.length > 0 ? wanted : first === undefined && argv.slice(2).some((a) => a === '-V' || a === '--version') ? [] : GROUPS;
  for (const group of groups) for (const command of await group.load()) program.addCommand(command);
  // Subcommands built on their own do not inherit these settings: apply them to the whole tree.
  const configure = (command: Command) => {
    command.exitOverride().helpOption('-h, --help', 'show help for this command').showHelpAfterError('(add --help for usage)');
    command.commands.forEach(configure);
  };
  program.commands.forEach(configure);
  return program;
}

/**
 * Every option's environment variable may also be given prefixed `SLEAP_SIGNAL_` (`SLEAP_SIGNAL_PORT`),
 * which wins over the plain name; an empty variable (`PORT=`) means unset, as for most tools.
 */
function prepareEnv(program: Command): void {
  const visit = (command: Command) => {
    for (const option of command.options) {
      const name = (option as { envVar?: string }).envVar;
      if (name === undefined) continue;
      const prefixed = process.env[`${ENV_PREFIX}${name}`];
      if (prefixed !== undefined && prefixed !== '') process.env[name] = prefixed;
      if (process.env[name] === '') delete process.env[name];
    }
    command.commands.forEach(visit);
  };
  visit(program);
}

/**
 * `sleap-signal ... | head -1`: once the reader has gone, writing fails with EPIPE. That is the
 * reader's choice, not an error: stop quietly, with the exit code so far.
 */
function quietOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
      throw err;
    });
  }
}

/** Runs the CLI; exit codes: 0 ok, 1 failure, 2 bad usage (bench: 99 a threshold crossed, 3 an invalid run). */
export async function main(argv: readonly string[]): Promise<void> {
  applyColorRule();
  quietOnClosedPipe();
  try {
    const program = await buildProgram(argv);
    prepareEnv(program);
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
    process.stderr.write(`sleap-signal: ${errorText(err)}\n`);
    process.exitCode = 1;
  }
}
