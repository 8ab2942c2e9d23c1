import { readFileSync } from 'node:fs';

/** Where the .lua files are: next to this module, in src/ and (copied by the build) in dist/. */
const LUA_DIR = new URL('./lua/', import.meta.url);

/** One script's text: its file, after the shared pieces it names (a helper, the join function). */
function source(file: string, ...prepended: string[]): string {
  return [...prepended, file].map((name) => readFileSync(new URL(name, LUA_DIR), 'utf8')).join('\n');
}

/** The pieces a join script is built on, in the order they must be defined. */
const JOIN_PIECES = ['server-of.lua', 'log-change.lua', 'changes-since.lua', 'join-function.lua'];

/** A script as ioredis defines it on a client: how many of its arguments are keys, and its text. */
export interface ScriptDefinition {
  readonly numberOfKeys: number;
  readonly lua: string;
}

/** The scripts of a registration: sent on their own, not held in an auto-pipelined batch (see redis-client.ts). */
export const REGISTRATION_SCRIPTS: readonly string[] = ['sigClaim', 'sigUnclaim', 'sigRelease', 'sigJoin', 'sigRegisterFresh', 'sigLeave', 'sigUpdate'];

/**
 * Every script, by the command name ioredis gives it. Each touches the keys of one hash slot only
 * (one room, one peer), so they run on Redis Cluster too; register-fresh, for a standalone Redis
 * only, is the exception.
 */
export const LUA_SCRIPTS = {
  sigClaim: { numberOfKeys: 2, lua: source('claim.lua') },
  sigUnclaim: { numberOfKeys: 1, lua: source('unclaim.lua') },
  sigRelease: { numberOfKeys: 1, lua: source('release.lua') },
  sigJoin: { numberOfKeys: 5, lua: source('join.lua', ...JOIN_PIECES) },
  sigRegisterFresh: { numberOfKeys: 9, lua: source('register-fresh.lua', ...JOIN_PIECES) },
  sigLeave: { numberOfKeys: 5, lua: source('leave.lua', 'log-change.lua') },
  sigUpdate: { numberOfKeys: 4, lua: source('update.lua', 'log-change.lua') },
  sigListRoom: { numberOfKeys: 3, lua: source('list-room.lua', 'changes-since.lua') },
  sigRoute: { numberOfKeys: 1, lua: source('route.lua', 'server-of.lua') },
  sigPresence: { numberOfKeys: 1, lua: source('presence.lua', 'server-of.lua') },
  sigRestore: { numberOfKeys: 5, lua: source('restore.lua', 'log-change.lua') },
  sigCreateRoom: { numberOfKeys: 1, lua: source('create-room.lua') },
  sigDropEmptyRoom: { numberOfKeys: 5, lua: source('drop-empty-room.lua') },
} as const satisfies Record<string, ScriptDefinition>;

export type ScriptName = keyof typeof LUA_SCRIPTS;
