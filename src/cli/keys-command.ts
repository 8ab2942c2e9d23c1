import { Command } from 'commander';
import { documentHeader, isoFromSeconds } from '../json-document.js';
import { parseApiKey } from '../auth/secrets.js';
import { wantsJson } from './output-option.js';
import Table from 'cli-table3';
import { parseDuration } from '../options/option-parsers.js';
import { withAdminTarget, withTarget, type AdminFlags } from './admin-options.js';
import type { PublicApiKey } from '../admin/admin-target.js';

const when = (seconds: number | null) => (seconds === null ? '-' : new Date(seconds * 1000).toISOString().replace('.000Z', 'Z'));

/** `keys create | list | revoke`: API keys (`slp_...`) for GPU workers, each bound to one room. */
export function keysCommand(): Command {
  const keys = new Command('keys').description('manage API keys (slp_...) that let workers register in one room');
  keys.addCommand(
    withAdminTarget(
      new Command('create')
        .description('create a key bound to a room; the key is printed once and never stored')
        .requiredOption('--room <room_id>', 'the room the key may join')
        .requiredOption('--name <name>', 'a name to recognise the key by (e.g. the worker host)')
        .option('--expires <duration>', 'lifetime, e.g. 30d (default: no expiry)', parseDuration),
    ).action(async (flags: AdminFlags & { room: string; name: string; expires?: number }) => {
      const created = await withTarget(flags, (t) =>
        t.createApiKey(flags.room, flags.name, flags.expires === undefined ? null : Math.ceil(flags.expires / 1000)),
      );
      if (wantsJson(flags)) process.stdout.write(`${JSON.stringify({ ...documentHeader(), ...keyDocument(created) }, null, 2)}\n`);
      else {
        process.stdout.write(`${created.key}\n`);
        process.stderr.write(`key ${created.id} for room ${created.room_id}, expires ${when(created.expires_at)}; store it now, it is not shown again\n`);
      }
    }),
  );
  keys.addCommand(
    withAdminTarget(new Command('list').description('list keys (never their secrets)')).action(async (flags: AdminFlags) => {
      const list = await withTarget(flags, (t) => t.listApiKeys());
      if (wantsJson(flags)) process.stdout.write(`${JSON.stringify({ ...documentHeader(), keys: list.map(keyDocument) }, null, 2)}\n`);
      else process.stdout.write(`${keyTable(list)}\n`);
    }),
  );
  keys.addCommand(
    withAdminTarget(new Command('revoke').description('revoke a key: registrations with it fail from now on').argument('<id>', 'key id (the part after slp_), or the whole key'))
      .action(async (given: string, flags: AdminFlags) => {
        // The whole key names its id; only the id goes further (the secret is not sent anywhere).
        const id = parseApiKey(given)?.id ?? given;
        const ok = await withTarget(flags, (t) => t.revokeApiKey(id));
        if (!ok) throw new Error(`API key ${id} not found`);
        if (wantsJson(flags)) process.stdout.write(`${JSON.stringify({ revoked: id })}\n`);
        else process.stdout.write(`revoked ${id}\n`);
      }),
  );
  return keys;
}

function keyTable(list: PublicApiKey[]): string {
  // cli-table3 would colour the header itself (whatever NO_COLOR says): colour comes from chalk only.
  const table = new Table({ head: ['id', 'room', 'name', 'created', 'expires', 'state'], style: { head: [], border: [] } });
  const now = Date.now() / 1000;
  for (const k of list) {
    const state = k.revoked_at !== null ? 'revoked' : k.expires_at !== null && k.expires_at <= now ? 'expired' : 'active';
    table.push([k.id, k.room_id, k.name, when(k.created_at), when(k.expires_at), state]);
  }
  return list.length === 0 ? 'no API keys' : table.toString();
}

/** A key as the CLI prints it: the HTTP API's unix seconds as ISO times. */
function keyDocument<K extends { created_at: number; expires_at: number | null; revoked_at: number | null }>(k: K) {
  return { ...k, created_at: isoFromSeconds(k.created_at), expires_at: isoFromSeconds(k.expires_at), revoked_at: isoFromSeconds(k.revoked_at) };
}
