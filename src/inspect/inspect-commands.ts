import type { Command } from 'commander';

/** The operator commands that read the Redis keys (rooms, room, peer, servers, stats, kick). */
export function inspectCommands(): Command[] {
  return [];
}
