import { clean } from './columns.js';
import type { OutputStream, Styles } from './format.js';

export interface WatchOptions {
  readonly intervalMs: number;
  readonly out: OutputStream & { readonly rows?: number };
  /** Each frame is one JSON line (NDJSON), printed as it comes: no redrawing. */
  readonly json: boolean;
  readonly styles: Styles;
  /** Stops the loop (the command wires SIGINT and SIGTERM to it). */
  readonly signal: AbortSignal;
  /** Where `--json` watches report errors after the first frame (stdout keeps one document per line). */
  readonly err?: OutputStream;
}

const ESC = '\u001b[';
export const ANSI = {
  home: `${ESC}H`,
  clearScreen: `${ESC}2J`,
  clearLine: `${ESC}K`,
  clearBelow: `${ESC}J`,
  hideCursor: `${ESC}?25l`,
  showCursor: `${ESC}?25h`,
  noWrap: `${ESC}?7l`,
  wrap: `${ESC}?7h`,
} as const;

/**
 * Renders a frame every `intervalMs` until the signal fires. On a terminal the frame is redrawn
 * in place (cursor home, each line cleared to its end, the rest of the screen cleared), cut to
 * the terminal's height, with long lines clipped rather than wrapped; elsewhere frames are
 * appended. The first frame's error is thrown (a wrong id or an unreachable Redis fails the
 * command); later errors are shown and the loop keeps going, so a watch outlives a blip.
 */
export async function watch(render: () => Promise<string>, options: WatchOptions): Promise<void> {
  const { out, signal, styles: st } = options;
  const redraw = out.isTTY === true && !options.json;
  let frame: string | null = await render();
  if (signal.aborted) return;
  if (redraw) out.write(ANSI.hideCursor + ANSI.noWrap + ANSI.clearScreen);
  try {
    for (let n = 0; ; n++) {
      if (frame !== null) {
        const stamp = `every ${options.intervalMs / 1000}s · ${new Date().toLocaleTimeString('en-GB', { hour12: false })} · Ctrl-C to stop`;
        if (options.json) out.write(frame.endsWith('\n') ? frame : `${frame}\n`);
        else if (redraw) out.write(inPlace(`${st.dim(stamp)}\n\n${frame}`, out.rows));
        else out.write(`${n > 0 ? '\n' : ''}${stamp}\n${frame}`);
      }
      if (!(await sleep(options.intervalMs, signal))) return;
      try {
        frame = await render();
      } catch (err) {
        // An error may quote ids from Redis: shown escaped, like every table cell.
        const message = clean(err instanceof Error ? err.message : String(err));
        if (options.json) {
          // Scripts read stdout line by line: the error goes to stderr, no line to stdout.
          (options.err ?? out).write(`sleap-signal: ${message} (retrying)\n`);
          frame = null;
        } else {
          frame = `${st.bad(`error: ${message}`)}\n${st.dim('(retrying)')}\n`;
        }
      }
      if (signal.aborted) return;
    }
  } finally {
    if (redraw) out.write(ANSI.wrap + ANSI.showCursor);
  }
}

/** A frame drawn over the previous one: home, each line cleared to its end, the rest cleared. */
export function inPlace(text: string, rows?: number): string {
  let lines = text.replace(/\n$/, '').split('\n');
  if (rows !== undefined && rows > 1 && lines.length > rows - 1) {
    const hidden = lines.length - (rows - 2);
    lines = [...lines.slice(0, rows - 2), `… ${hidden} more lines (use a taller terminal, or --json)`];
  }
  return `${ANSI.home}${lines.map((l) => `${l}${ANSI.clearLine}`).join('\n')}\n${ANSI.clearBelow}`;
}

/** Resolves true after `ms`, or false as soon as the signal fires. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(ok);
    };
    const onAbort = () => done(false);
    const timer = setTimeout(() => done(true), ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
