import { isPlainObject, type JsonObject } from './json-value.js';
import type { Metadata } from './messages.js';

/** Sets an own property, even one named `__proto__` (plain assignment would set the prototype). */
function setOwn(target: JsonObject, key: string, value: JsonObject[string]): void {
  Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
}

/** Metadata given at register: top-level `null` keys mean absent. */
export function normalizeMetadata(given: Metadata | null | undefined): Metadata {
  const out: JsonObject = {};
  if (!given) return out;
  for (const [k, v] of Object.entries(given)) if (v !== null) setOwn(out, k, v);
  return out;
}

/**
 * update_metadata merge: a top-level `null` removes the key; `tags` replaces the list;
 * `properties` merges key by key (a `null` value deletes that key); other keys are replaced.
 */
export function mergeMetadata(current: Metadata, patch: Metadata): Metadata {
  const merged: JsonObject = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) {
      delete merged[key];
    } else if (key === 'properties' && isPlainObject(value)) {
      const props: JsonObject = isPlainObject(current.properties) ? { ...current.properties } : {};
      for (const [pk, pv] of Object.entries(value)) {
        if (pv === null) delete props[pk];
        else setOwn(props, pk, pv);
      }
      setOwn(merged, 'properties', props);
    } else {
      setOwn(merged, key, value);
    }
  }
  return merged;
}

export function metadataBytes(metadata: Metadata): number {
  return Buffer.byteLength(JSON.stringify(metadata), 'utf8');
}
