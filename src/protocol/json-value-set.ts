import { deepEqual } from './json-value.js';

/**
 * Deep equality against many JSON values at once, at a cost that does not grow with their
 * number: discovery filters (`$in`, `$nin`, `$eq`, `$ne`, plain values) test a stored value
 * against such a set, once per peer.
 */

/** Why a value has no canonical form within the bounds. */
export type CanonicalProblem = 'too long' | 'too deep';
export type Canonical =
  | { readonly ok: true; readonly text: string; readonly depth: number }
  | { readonly ok: false; readonly problem: CanonicalProblem };

/**
 * Canonical JSON: object keys sorted by UTF-16 code units, no whitespace, numbers as `String(n)`
 * (so `0` and `-0` agree, as they do under `===`). Two JSON values have the same canonical text
 * exactly when they are deep-equal. Gives up as soon as the text would pass `maxLength`
 * characters or the nesting `maxDepth` levels, so the work done is bounded by those too.
 */
export function canonicalJson(value: unknown, maxLength: number, maxDepth: number): Canonical {
  const writer = new CanonicalWriter(maxLength, maxDepth);
  const problem = writer.write(value, 0);
  return problem === null ? { ok: true, text: writer.text, depth: writer.deepest } : { ok: false, problem };
}

class CanonicalWriter {
  text = '';
  deepest = 0;

  constructor(
    private readonly maxLength: number,
    private readonly maxDepth: number,
  ) {}

  write(value: unknown, depth: number): CanonicalProblem | null {
    if (value === null) return this.put('null');
    switch (typeof value) {
      case 'string':
        // Its JSON is at least two characters longer: give up before building it.
        if (this.text.length + value.length + 2 > this.maxLength) return 'too long';
        return this.put(JSON.stringify(value));
      case 'number':
        return this.put(String(value));
      case 'boolean':
        return this.put(value ? 'true' : 'false');
      case 'object':
        if (depth >= this.maxDepth) return 'too deep';
        this.deepest = Math.max(this.deepest, depth + 1);
        return Array.isArray(value) ? this.array(value, depth + 1) : this.object(value as Record<string, unknown>, depth + 1);
      default:
        // Not JSON: nothing a client can send equals it.
        return this.put(`?${typeof value}`);
    }
  }

  private array(items: readonly unknown[], depth: number): CanonicalProblem | null {
    // `[0,0,...]`: n elements take at least 2n + 1 characters.
    if (this.text.length + 2 * items.length + 1 > this.maxLength) return 'too long';
    this.text += '[';
    for (let i = 0; i < items.length; i++) {
      if (i > 0) this.text += ',';
      const problem = this.write(items[i], depth);
      if (problem !== null) return problem;
    }
    return this.put(']');
  }

  private object(value: Record<string, unknown>, depth: number): CanonicalProblem | null {
    const keys = Object.keys(value);
    // `{"":0,...}`: k keys take at least 5k + 1 characters.
    if (this.text.length + 5 * keys.length + 1 > this.maxLength) return 'too long';
    keys.sort();
    this.text += '{';
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      if (i > 0) this.text += ',';
      const problem = this.write(key, depth) ?? this.put(':') ?? this.write(value[key], depth);
      if (problem !== null) return problem;
    }
    return this.put('}');
  }

  private put(piece: string): CanonicalProblem | null {
    if (this.text.length + piece.length > this.maxLength) return 'too long';
    this.text += piece;
    return null;
  }
}

/** Up to this many objects and arrays, a set compares with each instead of looking up. */
const FEW = 4;

/** Bounds of the values a set holds; also what a stored value is measured against. */
export interface ValueBounds {
  /** Longest canonical JSON, in UTF-16 code units. */
  readonly maxLength: number;
  /** Deepest nesting (a scalar is 0, `{}` is 1). */
  readonly maxDepth: number;
}

/**
 * A set of JSON values with deep-equality membership. Scalars are looked up directly. Objects and
 * arrays are compared one by one while there are at most FEW of them, else looked up by canonical
 * text, a stored value being canonicalised only as far as the longest and deepest member reaches.
 * Either way one lookup costs at most a few passes over the stored value, whatever the set holds.
 */
export class JsonValueSet {
  private readonly scalars = new Set<unknown>();
  private readonly composites = new Set<string>();
  /** The objects and arrays themselves while there are few: comparing is then cheaper than canonicalising. */
  private readonly few: unknown[] = [];
  private longest = 0;
  private deepest = 0;

  /** The set of `values`, or the first one out of `bounds` and why. */
  static of(values: readonly unknown[], bounds: ValueBounds): JsonValueSet | { readonly index: number; readonly problem: CanonicalProblem } {
    const set = new JsonValueSet();
    for (let i = 0; i < values.length; i++) {
      const value = values[i];
      const canonical = canonicalJson(value, bounds.maxLength, bounds.maxDepth);
      if (!canonical.ok) return { index: i, problem: canonical.problem };
      if (typeof value !== 'object' || value === null) {
        set.scalars.add(value);
      } else {
        if (!set.composites.has(canonical.text)) set.few.push(value);
        set.composites.add(canonical.text);
        set.longest = Math.max(set.longest, canonical.text.length);
        set.deepest = Math.max(set.deepest, canonical.depth);
      }
    }
    return set;
  }

  has(value: unknown): boolean {
    // A Set compares with SameValueZero: -0 finds 0, as `===` would.
    if (typeof value !== 'object' || value === null) return this.scalars.has(value);
    if (this.composites.size === 0) return false;
    // deepEqual stops at the first difference and goes no deeper than the operand.
    if (this.composites.size <= FEW) return this.few.some((member) => deepEqual(value, member));
    const canonical = canonicalJson(value, this.longest, this.deepest);
    return canonical.ok && this.composites.has(canonical.text);
  }
}
