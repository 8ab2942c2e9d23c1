/**
 * A linear-time column layout, for lists too long for cli-table3: its span layout is quadratic in
 * the number of rows (10,000 rooms take it about ten seconds), so lists longer than
 * `CLI_TABLE_MAX_ROWS` are laid out here instead, in the same columns cli-table3 draws with the
 * borderless style of tables.ts (a test checks that both give the same text).
 */

export type Align = 'left' | 'right';

const SGR = /\u001b\[[0-9;]*m/g;
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
const ZERO_WIDTH = /^[\p{Mn}\p{Me}\p{Cf}]$/u;

/** Columns a string takes in a terminal: colour codes take none, East Asian wide characters and emoji two. */
export function displayWidth(text: string): number {
  const plain = text.replace(SGR, '');
  if (PRINTABLE_ASCII.test(plain)) return plain.length;
  let width = 0;
  for (const ch of plain) {
    const cp = ch.codePointAt(0)!;
    if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || ZERO_WIDTH.test(ch)) continue;
    width += isWide(cp) ? 2 : 1;
  }
  return width;
}

function isWide(cp: number): boolean {
  return (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0x303e) ||
    (cp >= 0x3041 && cp <= 0x33ff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0xa000 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1f64f) ||
    (cp >= 0x1f900 && cp <= 0x1f9ff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  );
}

/** Rows of cells in columns `gap` apart, each as wide as its widest cell; no trailing spaces. */
export function layoutColumns(rows: readonly (readonly string[])[], aligns: readonly Align[], gap = '  '): string {
  const widths: number[] = [];
  const measured = rows.map((row) =>
    row.map((cell, c) => {
      const w = displayWidth(cell);
      if (w > (widths[c] ?? 0)) widths[c] = w;
      return w;
    }),
  );
  const lines = rows.map((row, r) => {
    let line = '';
    row.forEach((cell, c) => {
      const pad = ' '.repeat((widths[c] ?? 0) - measured[r]![c]!);
      line += (c > 0 ? gap : '') + (aligns[c] === 'right' ? pad + cell : cell + pad);
    });
    return line.trimEnd();
  });
  return lines.join('\n');
}

/**
 * Client-supplied text (ids, roles, tags, properties) made safe for a terminal. Control
 * characters, which could move the cursor or recolour the operator's screen, are shown as `\xNN`;
 * characters that hide or reorder text (bidi controls, zero-width characters, line separators,
 * the BOM, unpaired surrogates), with which `gpu-worker-1\u200b` passes for `gpu-worker-1`, as `\uNNNN`.
 */
export function clean(text: string): string {
  return text.replace(UNSAFE, escapeChar);
}

/**
 * JSON.stringify output made safe the same way; its own line breaks are kept (it escapes those in
 * strings), and the `\uNNNN` escapes keep it valid JSON.
 */
export function cleanJson(json: string): string {
  return json.replace(UNSAFE_IN_JSON, escapeChar);
}

// Bidi marks and controls (U+061C, U+200E-U+200F, U+202A-U+202E, U+2066-U+2069), zero-width
// characters (U+200B-U+200D, U+2060-U+2064, U+FEFF), line and paragraph separators (U+2028-U+2029),
// and surrogates without their other half; UNSAFE adds the C0 and C1 controls.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const UNSAFE_IN_JSON = /[\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function escapeChar(ch: string): string {
  const code = ch.charCodeAt(0);
  return code < 0xa0 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}
