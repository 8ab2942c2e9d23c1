/**
 * JSON.parse turns a number beyond the range of a double (`1e400`) into ±Infinity, which JSON
 * cannot carry: re-serialised it becomes `null`, so a stored or relayed value would change on
 * its way. Such numbers are refused.
 */

/** The path (keys and indexes) of the first non-finite number in `value`, or null when there is none. */
export function findNonFinite(value: unknown): string[] | null {
  // Every frame is checked, so the common case (none) takes a walk that allocates nothing per
  // value; the path is only worked out for a frame about to be refused.
  return hasNonFinite(value) ? pathToNonFinite(value) : null;
}

const notFinite = (v: unknown): boolean => typeof v === 'number' && !Number.isFinite(v);
const isContainer = (v: unknown): v is object => typeof v === 'object' && v !== null;

/** Iterative (a message may nest thousands of levels deep); only containers go on the stack. */
function hasNonFinite(value: unknown): boolean {
  if (notFinite(value)) return true;
  if (!isContainer(value)) return false;
  const stack: object[] = [value];
  for (let v = stack.pop(); v !== undefined; v = stack.pop()) {
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const item: unknown = v[i];
        if (isContainer(item)) stack.push(item);
        else if (notFinite(item)) return true;
      }
    } else {
      for (const key in v) {
        const item: unknown = (v as Record<string, unknown>)[key];
        if (isContainer(item)) stack.push(item);
        else if (notFinite(item)) return true;
      }
    }
  }
  return false;
}

interface Visit {
  readonly value: unknown;
  readonly key: string;
  readonly parent: Visit | null;
}

function pathToNonFinite(value: unknown): string[] | null {
  const stack: Visit[] = [{ value, key: '', parent: null }];
  for (let visit = stack.pop(); visit !== undefined; visit = stack.pop()) {
    const v = visit.value;
    if (notFinite(v)) return pathOf(visit);
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ value: v[i], key: String(i), parent: visit });
    } else if (isContainer(v)) {
      const keys = Object.keys(v);
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i]!;
        stack.push({ value: (v as Record<string, unknown>)[key], key, parent: visit });
      }
    }
  }
  return null;
}

function pathOf(visit: Visit): string[] {
  const path: string[] = [];
  for (let at: Visit | null = visit; at !== null && at.parent !== null; at = at.parent) path.push(at.key);
  return path.reverse();
}
