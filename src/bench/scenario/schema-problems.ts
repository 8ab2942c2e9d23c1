import { Value } from '@sinclair/typebox/value';
import type { TSchema } from '@sinclair/typebox';
import type { ScenarioProblem } from './checks.js';
import { ScenarioSchema } from './schema.js';

/**
 * What the schema finds wrong in a scenario, said for a person: an unknown key with the one that
 * was likely meant, the durations or choices a field takes, and what the field is for.
 */

/** Problems of `file` against the scenario schema, one per place, at most `most`. */
export function schemaProblems(file: unknown, most: number): ScenarioProblem[] {
  const problems: ScenarioProblem[] = [];
  const seen = new Set<string>();
  for (const error of Value.Errors(ScenarioSchema, file)) {
    if (seen.has(error.path)) continue;
    seen.add(error.path);
    let message = error.message;
    if (message === 'Unexpected property') {
      const key = error.path.split('/').pop() ?? '';
      const parent = error.path.slice(0, error.path.length - key.length - 1);
      const hint = closest(key, knownKeys(parent));
      message = `unknown key "${key}"${hint ? ` (did you mean "${hint}"?)` : ''}`;
    } else {
      const schema = schemaAt(error.path) as (TSchema & { anyOf?: { const?: unknown }[] }) | undefined;
      const choices = schema?.anyOf?.map((s) => s.const).filter((c) => c !== undefined);
      if (schema?.description?.includes('(a duration:') && message.startsWith('Expected string to match')) {
        message = `expected a duration like "500ms", "10s", "2m", got ${JSON.stringify(valueAt(file, error.path))}`;
      }
      if (choices && choices.length > 0) message = `expected one of ${choices.map((c) => JSON.stringify(c)).join(', ')}, got ${JSON.stringify(valueAt(file, error.path))}`;
      if (schema?.description) message += ` — ${schema.description}`;
    }
    problems.push({ path: error.path, message });
    if (problems.length >= most) break;
  }
  return problems;
}

function valueAt(root: unknown, path: string): unknown {
  let node = root;
  for (const part of path.split('/').filter(Boolean)) node = (node as Record<string, unknown> | undefined)?.[part];
  return node;
}

function schemaAt(path: string): TSchema | undefined {
  let schema: TSchema | undefined = ScenarioSchema;
  for (const part of path.split('/').filter(Boolean)) {
    const props: Record<string, TSchema> | undefined = (schema as { properties?: Record<string, TSchema> } | undefined)?.properties;
    schema = props?.[part];
    if (schema === undefined) return undefined;
  }
  return schema;
}

function knownKeys(parentPath: string): string[] {
  const schema = schemaAt(parentPath) as { properties?: Record<string, unknown> } | undefined;
  return Object.keys(schema?.properties ?? {});
}

function closest(word: string, candidates: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = c;
    }
  }
  return best !== null && bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : null;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}
