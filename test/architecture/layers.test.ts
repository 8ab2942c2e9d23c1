import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

/** The source tree's shape: which folder may import which, no import cycle, no oversized file. */

const SRC = join(import.meta.dirname, '../../src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Every relative import (static, dynamic, re-export, type-only) of a file, as a path under src/. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^import\s+)'(\.[^']+)'/gm)].map((m) => m[1]!);
  return specs.map((s) => relative(SRC, normalize(join(dirname(file), s.replace(/\.js$/, '.ts')))));
}

const files = sourceFiles(SRC).map((f) => relative(SRC, f));
const graph = new Map(files.map((f) => [f, importsOf(join(SRC, f)).filter((d) => files.includes(d))]));
const folder = (f: string) => (f.includes('/') ? f.slice(0, f.indexOf('/')) : '.');

/** Folders a folder must not import from: the lower layers never reach up. */
const FORBIDDEN: Record<string, readonly string[]> = {
  protocol: ['server', 'cli', 'inspect', 'bench', 'state', 'admin', 'auth', 'client', 'smoke', 'options'],
  net: ['server', 'cli', 'inspect', 'bench', 'state', 'admin', 'auth', 'client', 'smoke', 'protocol'],
  options: ['server', 'cli', 'inspect', 'bench', 'state', 'admin', 'auth', 'client', 'smoke'],
  state: ['server', 'cli', 'inspect', 'bench', 'admin', 'client', 'smoke'],
  admin: ['server', 'cli', 'inspect', 'bench', 'client', 'smoke'],
  server: ['cli', 'inspect', 'bench', 'client', 'smoke'],
  inspect: ['cli', 'server', 'bench'],
  bench: ['cli', 'server', 'inspect', 'state', 'admin'],
  client: ['cli', 'server', 'inspect', 'bench', 'state', 'admin'],
  smoke: ['cli', 'server', 'inspect', 'bench', 'state', 'admin'],
};

function cycles(): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v)!) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || graph.get(v)!.includes(v)) found.push(component.sort());
    }
  };
  for (const f of files) if (!index.has(f)) visit(f);
  return found;
}

describe('source layout', () => {
  it('reads the import graph (the check below is not vacuous)', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(graph.get('server/signaling-server.ts')!.length).toBeGreaterThan(10);
  });

  it('has no import cycle', () => {
    expect(cycles()).toEqual([]);
  });

  it('has no import from a lower layer to a higher one', () => {
    const wrong: string[] = [];
    for (const [file, deps] of graph) {
      const banned = FORBIDDEN[folder(file)] ?? [];
      for (const d of deps) if (banned.includes(folder(d))) wrong.push(`${file} -> ${d}`);
    }
    expect(wrong).toEqual([]);
  });

  it('has no source file above ~400 lines without a reason written at its top', () => {
    const long = files.filter((f) => {
      const text = readFileSync(join(SRC, f), 'utf8');
      return text.split('\n').length > 420 && !/^\/\/ Long because: /m.test(text.slice(0, 1000));
    });
    expect(long).toEqual([]);
  });
});
