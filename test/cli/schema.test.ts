import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, ensureBuilt, killAll, runCli } from './cli-helpers.js';

const COMMITTED = join(ROOT, 'docs', 'protocol.schema.json');
const DRIFT = 'docs/protocol.schema.json is out of date with the schemas the server validates with: run `npm run schema` and commit the result';

const scratch = mkdtempSync(join(tmpdir(), 'sleap-signal-schema-'));

beforeAll(() => ensureBuilt(), 180_000);
afterEach(killAll);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('sleap-signal schema', () => {
  it('prints exactly the committed docs/protocol.schema.json (no drift)', async () => {
    const r = await runCli(['schema']);
    expect(r.code).toBe(0);
    const committed = readFileSync(COMMITTED);
    // String comparison first, for a readable diff; then byte for byte.
    expect(r.stdout, DRIFT).toBe(committed.toString('utf8'));
    expect(r.stdoutBytes.equals(committed), DRIFT).toBe(true);
  });

  it('--out writes the same bytes to a file and nothing to stdout', async () => {
    const out = join(scratch, 'protocol.schema.json');
    const r = await runCli(['schema', '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    const printed = await runCli(['schema']);
    expect(readFileSync(out).equals(printed.stdoutBytes)).toBe(true);
  });

  it('is a JSON Schema (2020-12) covering every client and server message', async () => {
    const r = await runCli(['schema']);
    const schema = JSON.parse(r.stdout) as { $schema: string; $defs: Record<string, { properties?: { type?: { const?: string } } }> };
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    const client = [
      'register',
      'discover_peers',
      'update_metadata',
      'peer_message',
      'offer',
      'answer',
      'candidate',
      'mesh_connect',
      'mesh_answer',
      'ice_candidate',
      'ping',
      'leave',
      'error',
    ];
    const server = [
      'registered',
      'registered_auth',
      'peer_list',
      'metadata_updated',
      'peer_message',
      'mesh_offer',
      'mesh_answer',
      'ice_candidate',
      'pong',
      'ping',
      'left',
      'admin_conflict',
      'peer_joined',
      'peer_updated',
      'peer_left',
      'error',
    ];
    for (const type of client) expect(schema.$defs[`client.${type}`]?.properties?.type?.const, `client.${type}`).toBe(type);
    for (const type of server) expect(schema.$defs[`server.${type}`]?.properties?.type?.const, `server.${type}`).toBe(type);
  });

  it('a write to a directory that does not exist exits 1 with the reason', async () => {
    const r = await runCli(['schema', '--out', join(scratch, 'missing', 'dir', 'schema.json')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/ENOENT/);
  });
});
