import chalk from 'chalk';

/**
 * The one colour rule of every command: FORCE_COLOR forces colour (FORCE_COLOR=0 or false: none);
 * otherwise colour only on a terminal, and never when NO_COLOR is set (https://no-color.org: any
 * non-empty value). The depth is chalk's own detection (TERM, COLORTERM, FORCE_COLOR=2/3).
 */
export function colorLevel(stream: { readonly isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): 0 | 1 | 2 | 3 {
  const force = env.FORCE_COLOR;
  if (force === '0' || force === 'false') return 0;
  if (force !== undefined && force !== '') return chalk.level === 0 ? 1 : chalk.level;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return 0;
  if (stream.isTTY !== true || env.TERM === 'dumb') return 0;
  // chalk's detection turns colour off under CI=... even on a terminal; a terminal is a terminal.
  return chalk.level === 0 ? 1 : chalk.level;
}

/** Applies the rule to chalk itself, which every command's plain output goes through. */
export function applyColorRule(stream: { readonly isTTY?: boolean } = process.stdout): void {
  chalk.level = colorLevel(stream);
}
