import chalk from 'chalk';

/**
 * The one colour rule of every command: FORCE_COLOR (any value but 0 or false) forces colour;
 * otherwise colour only on a terminal, and never when NO_COLOR is set (https://no-color.org: any
 * non-empty value). The depth is chalk's own detection (TERM, COLORTERM, FORCE_COLOR=2/3).
 */
export function colorLevel(stream: { readonly isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): 0 | 1 | 2 | 3 {
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '' && force !== '0' && force !== 'false') return chalk.level === 0 ? 1 : chalk.level;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return 0;
  if (stream.isTTY !== true) return 0;
  return chalk.level;
}

/** Applies the rule to chalk itself, which every command's plain output goes through. */
export function applyColorRule(stream: { readonly isTTY?: boolean } = process.stdout): void {
  chalk.level = colorLevel(stream);
}
