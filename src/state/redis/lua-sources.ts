import { readFileSync } from 'node:fs';

/** Where the .lua files are: next to this module, in src/ and (copied by the build) in dist/. */
const LUA_DIR = new URL('./lua/', import.meta.url);

/** One script's text: its file, after the shared pieces it names (a helper, the join function). */
function source(file: string, ...prepended: string[]): string {
  return [...prepended, file].map((name) => readFileSync(new URL(name, LUA_DIR), 'utf8')).join('\n');
}

/** A script as ioredis defines it on a client: how many of its arguments are keys, and its text. */
export interface ScriptDefinition {
  readonly numberOfKeys: number;
  readonly lua: string;
}

/**
 * Every script, by the command name ioredis gives it. Each touches the keys of one hash slot only
 * (one room, one peer), so they run on Redis Cluster too; register-fresh, for a standalone Redis
 * only, is the exception.
 */
export const LUA_SCRIPTS = {
  sigClaim: { numberOfKeys: 2, lua: source('claim.lua') },
  sigUnclaim: { numberOfKeys: 1, lua: source('unclaim.lua') },
  sigRelease: { numberOfKeys: 1, lua: source('release.lua') },
  sigJoin: { numberOfKeys: 4, lua: source('join.lua', 'join-function.lua') },
  sigRegisterFresh: { numberOfKeys: 8, lua: source('register-fresh.lua', 'join-function.lua') },
  sigLeave: { numberOfKeys: 4, lua: source('leave.lua') },
  sigUpdate: { numberOfKeys: 3, lua: source('update.lua') },
  sigListRoom: { numberOfKeys: 2, lua: source('list-room.lua') },
  sigRoute: { numberOfKeys: 1, lua: source('route.lua', 'server-of.lua') },
  sigPresence: { numberOfKeys: 1, lua: source('presence.lua', 'server-of.lua') },
  sigRestore: { numberOfKeys: 4, lua: source('restore.lua') },
  sigCreateRoom: { numberOfKeys: 1, lua: source('create-room.lua') },
  sigDropEmptyRoom: { numberOfKeys: 4, lua: source('drop-empty-room.lua') },
} as const satisfies Record<string, ScriptDefinition>;

export type ScriptName = keyof typeof LUA_SCRIPTS;
