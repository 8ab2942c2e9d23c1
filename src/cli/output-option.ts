import { Option } from 'commander';

/** What a read command prints: a table for people, or JSON with stable fields for scripts. */
export type OutputFormat = 'table' | 'json';

/** `-o, --output table|json`, on every command that prints something to read; `--json` is the same as `-o json`. */
export function outputOptions(): Option[] {
  return [
    new Option('-o, --output <format>', 'table (for people) or json (stable fields, for scripts)').choices(['table', 'json']).default('table'),
    new Option('--json', 'the same as -o json'),
  ];
}

export function wantsJson(flags: { readonly output?: string; readonly json?: boolean }): boolean {
  return flags.json === true || flags.output === 'json';
}
