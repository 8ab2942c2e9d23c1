import chalk from 'chalk';
import type { LiveProgress } from './progress-ticker.js';
import { ms } from './report-table.js';

/**
 * The live progress line on a terminal: phase, connected, registered, msgs/s, errors, p99 so far.
 * Silent when stderr is not a TTY or CI is set, so CI logs stay clean.
 */
export class ProgressLine {
  private shown = false;

  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    readonly enabled: boolean = Boolean(process.stderr.isTTY) && !process.env.CI,
  ) {}

  update(p: LiveProgress): void {
    if (!this.enabled) return;
    const errors = p.errors > 0 ? chalk.red(`${p.errors} errors`) : '0 errors';
    const line =
      `${chalk.cyan(p.phase.padEnd(7))} ${progressBar(p.elapsedS, p.plannedS)}  ` +
      `open ${p.open}/${p.peers}  registered ${p.registered}  ` +
      `${Math.round(p.relaysPerS)} msgs/s  ${Math.round(p.opsPerS)} ops/s  ${errors}  ` +
      `relay p99 ${p.relayP99Us > 0 ? `${ms(p.relayP99Us)} ms` : '-'}`;
    this.stream.write(`\r\u001b[2K${line}`);
    this.shown = true;
  }

  /** Clears the line (before the final report). */
  done(): void {
    if (this.shown) this.stream.write('\r\u001b[2K');
    this.shown = false;
  }
}

const BAR_WIDTH = 20;

/** `[########------------]  40% 1m 12s left`: the share of the planned run done, and what remains. */
export function progressBar(elapsedS: number, plannedS: number): string {
  const share = plannedS > 0 ? Math.min(1, elapsedS / plannedS) : 1;
  const filled = Math.round(share * BAR_WIDTH);
  const left = Math.max(0, Math.ceil(plannedS - elapsedS));
  const leftText = left >= 60 ? `${Math.floor(left / 60)}m ${String(left % 60).padStart(2, '0')}s` : `${left}s`;
  return `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${String(Math.floor(share * 100)).padStart(3)}% ${leftText} left`;
}
