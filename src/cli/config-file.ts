import { readFileSync } from 'node:fs';
import { InvalidArgumentError, type Command, type Option } from 'commander';
import { parse as parseYaml } from 'yaml';
import { parseDuration } from '../options/option-parsers.js';
import { redactUrl } from '../net/redact-url.js';
import { UsageError } from '../options/usage-error.js';

/**
 * `serve --config FILE`: a JSON or YAML object whose keys are the flags of `serve --help` without
 * their dashes (`max-connections: 20000`, `redis: redis://...`, `trust-proxy: true`). Each value
 * goes through the flag's own parser, and a flag or an environment variable wins over the file:
 * flag > env > file > default.
 */

/** Options that are about the configuration itself, not settings of the server. */
const NOT_SETTINGS = new Set(['config', 'print-config', 'print-config-schema', 'help']);
/** Values never printed. */
const SECRETS = new Set(['operator-token', 'metrics-token', 'turn-secret']);

type Settings = Map<string, Option>;

function settingsOf(command: Command): Settings {
  const out: Settings = new Map();
  for (const option of command.options) {
    const key = option.long?.replace(/^--/, '');
    if (key !== undefined && !NOT_SETTINGS.has(key)) out.set(key, option);
  }
  return out;
}

/** Whether the option takes no value (a switch such as --trust-proxy). */
const isSwitch = (option: Option) => !option.required && !option.optional;

export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`--config ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : String(err)}`);
  }
  let value: unknown;
  try {
    // YAML is a superset of JSON: one parser reads both.
    value = parseYaml(text);
  } catch (err) {
    throw new UsageError(`--config ${path}: not valid JSON or YAML: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new UsageError(`--config ${path}: expected an object of settings (the flags of serve --help without their dashes)`);
  }
  return value as Record<string, unknown>;
}

/** Applies the file's settings where neither a flag nor an environment variable gave one. */
export function applyConfig(command: Command, path: string, values: Record<string, unknown>): void {
  const settings = settingsOf(command);
  for (const [key, value] of Object.entries(values)) {
    const option = settings.get(key);
    if (option === undefined) throw new UsageError(`--config ${path}: unknown setting "${key}" (settings are the flags of serve --help without their dashes)`);
    const name = option.attributeName();
    const source = command.getOptionValueSource(name);
    if (source === 'cli' || source === 'env') continue;
    command.setOptionValueWithSource(name, parsedValue(option, key, value, path), 'config');
  }
}

function parsedValue(option: Option, key: string, value: unknown, path: string): unknown {
  const bad = (why: string) => new UsageError(`--config ${path}: ${key}: ${why}`);
  if (isSwitch(option)) {
    if (typeof value !== 'boolean') throw bad('expected true or false');
    return value;
  }
  let text: string;
  if (typeof value === 'string' || typeof value === 'number') text = String(value);
  else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) text = value.join(',');
  else throw bad('expected a string or a number');
  if (option.argChoices && !option.argChoices.includes(text)) throw bad(`expected one of ${option.argChoices.join(', ')}; got "${text}"`);
  const parse = (option as Option & { parseArg?: (value: string, previous: unknown) => unknown }).parseArg;
  if (parse === undefined) return text;
  try {
    return parse(text, undefined);
  } catch (err) {
    throw bad(err instanceof InvalidArgumentError || err instanceof Error ? err.message : String(err));
  }
}

/** The resolved settings of a command as a config file would hold them, secrets redacted, with where each came from. */
export function resolvedConfig(command: Command): { settings: Record<string, unknown>; sources: Record<string, string> } {
  const settings: Record<string, unknown> = {};
  const sources: Record<string, string> = {};
  for (const [key, option] of settingsOf(command)) {
    const name = option.attributeName();
    const value = command.getOptionValue(name);
    if (value === undefined) continue;
    settings[key] = SECRETS.has(key) ? '***' : redactUrlPassword(fileForm(option, value));
    sources[key] = command.getOptionValueSource(name) ?? 'default';
  }
  return { settings, sources };
}

/** A parsed value written back the way the file (and the flag) takes it, so that a printed config loads as is. */
function fileForm(option: Option, value: unknown): unknown {
  const parse = (option as Option & { parseArg?: unknown }).parseArg;
  if (parse === parseDuration && typeof value === 'number') return `${value}ms`;
  if (Array.isArray(value)) return value.join(',');
  if (value !== null && typeof value === 'object' && 'perSecond' in value && 'burst' in value) {
    const rate = value as { perSecond: number; burst: number };
    return `${rate.perSecond}:${rate.burst}`;
  }
  return value;
}

/** A Redis (or any) URL with a password, printed without it. */
function redactUrlPassword(value: unknown): unknown {
  return typeof value === 'string' && /^[a-z]+s?:\/\/[^/]*:[^/@]*@/i.test(value) ? redactUrl(value) : value;
}

/** The JSON Schema of a config file (published as docs/serve-config.schema.json). */
export function configSchema(command: Command): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (const [key, option] of settingsOf(command)) {
    const description = option.description + (option.envVar ? ` (env ${option.envVar})` : '');
    if (isSwitch(option)) properties[key] = { type: 'boolean', description };
    else if (option.argChoices) properties[key] = { enum: option.argChoices, description };
    else properties[key] = { anyOf: [{ type: 'string' }, { type: 'number' }, { type: 'array', items: { type: 'string' } }], description };
  }
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'sleap-signal serve --config',
    description: 'Settings of serve: the flags of serve --help without their dashes. A flag or an environment variable wins over the file.',
    type: 'object',
    additionalProperties: false,
    properties,
  };
}
