import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BenchError } from '../bench-error.js';
import { scenarioProblems, type ScenarioProblem } from './checks.js';
import { SCENARIO_DEFAULTS } from './defaults.js';
import { resolveScenario, type LoadedScenario } from './scenario.js';
import type { ScenarioFile } from './schema.js';
import { schemaProblems } from './schema-problems.js';

/**
 * Loading a scenario: find the file (a path or a shipped name), read it, merge the flags'
 * overrides in, validate, fill in defaults and resolve; every problem is reported at once.
 */

/** Directory of the scenarios shipped with the package. */
export const SCENARIO_DIR = fileURLToPath(new URL('../../../scenarios/', import.meta.url));

/** Finds a scenario: a path, or the name of a shipped scenario ("smoke", "churn", ...). */
export function resolveScenarioPath(spec: string): string {
  if (existsSync(spec)) return spec;
  const shipped = `${SCENARIO_DIR}${spec.replace(/\.json$/, '')}.json`;
  if (!spec.includes('/') && existsSync(shipped)) return shipped;
  throw new BenchError('scenario_not_found', `scenario file not found: ${spec} (shipped scenarios: ${shippedScenarioNames().join(', ')})`);
}

export function shippedScenarioNames(): string[] {
  return ['smoke', 'small-lab', 'research-team', '10k-connections', 'cross-instance', 'churn', 'discovery-heavy', 'reconnect-storm', 'reconnect-storm-ci'];
}

/** Reads, merges flag overrides into, validates and resolves a scenario. */
export async function loadScenario(spec: string | undefined, overrides: Record<string, unknown> = {}, flagNames: Record<string, string> = {}): Promise<LoadedScenario> {
  let raw: unknown = {};
  let source = 'defaults';
  if (spec !== undefined) {
    source = resolveScenarioPath(spec);
    const text = await readFile(source, 'utf8');
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw new BenchError('scenario_not_json', `${source}: not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const fallbackName = spec === undefined ? 'adhoc' : basename(source, extname(source));
  return validateScenario(raw, { source, overrides, flagNames, fallbackName });
}

/**
 * Validates a scenario (as parsed JSON) with overrides merged in; throws a BenchError that lists
 * every problem, each with its place in the file (or the flag that set it).
 */
export function validateScenario(
  raw: unknown,
  options: { source?: string; overrides?: Record<string, unknown>; flagNames?: Record<string, string>; fallbackName?: string } = {},
): LoadedScenario {
  const source = options.source ?? 'scenario';
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new BenchError('scenario_invalid', `${source}: a scenario is a JSON object, got ${Array.isArray(raw) ? 'an array' : typeof raw}`);
  }
  const merged = deepMerge(raw as Record<string, unknown>, options.overrides ?? {});
  const refuse = (problems: readonly ScenarioProblem[]): never => {
    const where = (path: string) => {
      const flag = options.flagNames?.[path];
      return flag ? `${flag} (${path})` : path || '/';
    };
    const lines = problems.map((p) => `${where(p.path)}: ${p.message}`);
    throw new BenchError('scenario_invalid', `${source}: invalid scenario:\n  ${lines.join('\n  ')}`);
  };
  const invalid = schemaProblems(merged, 20);
  if (invalid.length > 0) refuse(invalid);

  const file = merged as ScenarioFile;
  const effective = fillDefaults(file, options.fallbackName ?? 'adhoc');
  const scenario = resolveScenario(effective);
  const unrunnable = scenarioProblems(scenario, effective);
  if (unrunnable.length > 0) refuse(unrunnable);
  return { effective, scenario, source };
}

function fillDefaults(file: ScenarioFile, fallbackName: string): ScenarioFile {
  const d = SCENARIO_DEFAULTS;
  const { $schema: _schema, ...rest } = file;
  const filled = deepMerge(JSON.parse(JSON.stringify(d)) as Record<string, unknown>, rest as Record<string, unknown>) as ScenarioFile;
  // Metadata and filters are values, not settings: a file's metadata replaces the default whole.
  const roles = { ...filled.roles! };
  if (file.roles?.worker_metadata) roles.worker_metadata = file.roles.worker_metadata;
  if (file.roles?.client_metadata) roles.client_metadata = file.roles.client_metadata;
  if (file.roles?.discover_filter) roles.discover_filter = file.roles.discover_filter;
  const thresholds = file.thresholds ?? [];
  return { name: file.name ?? fallbackName, description: file.description ?? '', ...filled, roles, thresholds };
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (value === undefined) continue;
    const prior = out[key];
    if (key === 'thresholds' && Array.isArray(prior) && Array.isArray(value)) out[key] = [...prior, ...value];
    else if (isObject(prior) && isObject(value)) out[key] = deepMerge(prior, value);
    else out[key] = value;
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
