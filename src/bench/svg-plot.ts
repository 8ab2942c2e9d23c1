/**
 * Line plots as SVG: axes with round-number (or decade) ticks, background bands, series as paths;
 * a plot goes into the HTML page as a figure, or into a file of its own.
 */

export interface Series {
  readonly name: string;
  readonly color: string;
  readonly points: readonly (readonly [number, number])[];
  readonly dashed?: boolean;
}

export interface Axis {
  readonly label: string;
  readonly min: number;
  readonly max: number;
  readonly ticks: readonly { v: number; label: string }[];
  readonly log?: boolean;
}

export interface Band {
  readonly from: number;
  readonly to: number;
  readonly color: string;
  readonly label: string;
}

export function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const W = 760;
const H = 300;
const M = { left: 64, right: 34, top: 16, bottom: 44 };
/** One plot: its SVG body (no frame element) and what its legend lists. */
export interface Plot {
  /** File name stem for `--svg`. */
  readonly name: string;
  readonly title: string;
  readonly body: string;
  readonly series: readonly Series[];
}

/** A line plot as SVG elements. */
export function plot(name: string, title: string, xAxis: Axis, yAxis: Axis, series: readonly Series[], bands: readonly Band[] = []): Plot {
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const tx = (v: number) => (xAxis.log ? Math.log10(v) : v);
  const ty = (v: number) => (yAxis.log ? Math.log10(Math.max(v, yAxis.min)) : v);
  const x = (v: number) => M.left + ((tx(v) - tx(xAxis.min)) / (tx(xAxis.max) - tx(xAxis.min) || 1)) * pw;
  const y = (v: number) => M.top + ph - ((ty(Math.min(v, yAxis.max)) - ty(yAxis.min)) / (ty(yAxis.max) - ty(yAxis.min) || 1)) * ph;
  const parts: string[] = [];
  for (const b of bands) {
    const x0 = x(Math.max(b.from, xAxis.min));
    const x1 = x(Math.min(b.to, xAxis.max));
    if (x1 <= x0) continue;
    parts.push(`<rect x="${x0.toFixed(1)}" y="${M.top}" width="${(x1 - x0).toFixed(1)}" height="${ph}" fill="${b.color}"><title>${esc(b.label)}</title></rect>`);
    parts.push(`<text x="${(x0 + 3).toFixed(1)}" y="${M.top + 11}" class="band">${esc(b.label)}</text>`);
  }
  for (const t of yAxis.ticks) {
    const yy = y(t.v).toFixed(1);
    parts.push(`<line x1="${M.left}" x2="${M.left + pw}" y1="${yy}" y2="${yy}" class="grid"/>`);
    parts.push(`<text x="${M.left - 6}" y="${yy}" class="ytick">${esc(t.label)}</text>`);
  }
  for (const t of xAxis.ticks) {
    const xx = x(t.v).toFixed(1);
    parts.push(`<line x1="${xx}" x2="${xx}" y1="${M.top}" y2="${M.top + ph}" class="grid"/>`);
    parts.push(`<text x="${xx}" y="${M.top + ph + 16}" class="xtick">${esc(t.label)}</text>`);
  }
  parts.push(`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" class="frame"/>`);
  parts.push(`<text x="${M.left + pw / 2}" y="${H - 6}" class="xlabel">${esc(xAxis.label)}</text>`);
  parts.push(`<text x="14" y="${M.top + ph / 2}" class="ylabel" transform="rotate(-90 14 ${M.top + ph / 2})">${esc(yAxis.label)}</text>`);
  for (const s of series) {
    if (s.points.length === 0) continue;
    const d = s.points.map(([px, py], i) => `${i === 0 ? 'M' : 'L'}${x(px).toFixed(1)},${y(py).toFixed(1)}`).join('');
    parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ''}><title>${esc(s.name)}</title></path>`);
    if (s.points.length === 1) {
      const [px, py] = s.points[0]!;
      parts.push(`<circle cx="${x(px).toFixed(1)}" cy="${y(py).toFixed(1)}" r="3" fill="${s.color}"/>`);
    }
  }
  return { name, title, body: parts.join(''), series: series.filter((s) => s.points.length > 0) };
}

/** The plot as a figure of the HTML page (styled by the page's CSS). */
export function figureHtml(p: Plot): string {
  const legend = p.series
    .map((s) => `<span class="key"><i style="background:${s.color}${s.dashed ? ';opacity:.6' : ''}"></i>${esc(s.name)}</span>`)
    .join('');
  const svg = `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(p.title)}" xmlns="http://www.w3.org/2000/svg">${p.body}</svg>`;
  return `<figure><figcaption>${esc(p.title)}</figcaption>${svg}<div class="legend">${legend}</div></figure>`;
}

const SVG_CSS = `text{font:11px system-ui,-apple-system,Segoe UI,Roboto,sans-serif}.grid{stroke:#e5e5e5}.frame{fill:none;stroke:#999}
.xtick{text-anchor:middle;fill:#555}.ytick{text-anchor:end;dominant-baseline:middle;fill:#555}.xlabel,.ylabel{text-anchor:middle;fill:#333}
.band{fill:#999;font-size:10px}.title{font-size:13px;font-weight:600;fill:#222}.key{font-size:12px;fill:#333}`;

/** The plot as a standalone SVG file (title, legend and styles inside), for documents. */
export function standaloneSvg(p: Plot, subtitle: string): string {
  const top = 40;
  const legendY = top + H + 6;
  const keys: string[] = [];
  let x = M.left;
  for (const s of p.series) {
    keys.push(`<line x1="${x}" x2="${x + 16}" y1="${legendY}" y2="${legendY}" stroke="${s.color}" stroke-width="3"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`);
    keys.push(`<text x="${x + 21}" y="${legendY + 4}" class="key">${esc(s.name)}</text>`);
    x += 31 + s.name.length * 6.5;
  }
  const height = legendY + 16;
  return (
    `<svg viewBox="0 0 ${W} ${height}" width="${W}" height="${height}" role="img" aria-label="${esc(p.title)}" xmlns="http://www.w3.org/2000/svg">` +
    `<style>${SVG_CSS}</style><rect width="100%" height="100%" fill="#fff"/>` +
    `<text x="8" y="16" class="title">${esc(p.title)}</text><text x="8" y="31" class="xtick" style="text-anchor:start">${esc(subtitle)}</text>` +
    `<g transform="translate(0 ${top})">${p.body}</g>${keys.join('')}</svg>\n`
  );
}


/** Round-number ticks for a linear axis from 0 to max. */
export function linearTicks(max: number, format: (v: number) => string): { max: number; ticks: { v: number; label: string }[] } {
  if (!(max > 0)) return { max: 1, ticks: [0, 0.5, 1].map((v) => ({ v, label: format(v) })) };
  const raw = max / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const top = Math.ceil(max / step) * step;
  const ticks: { v: number; label: string }[] = [];
  for (let v = 0; v <= top + step / 2; v += step) ticks.push({ v, label: format(v) });
  return { max: top, ticks };
}

export function logTicks(min: number, max: number): { min: number; max: number; ticks: { v: number; label: string }[] } {
  const lo = 10 ** Math.floor(Math.log10(min));
  const hi = 10 ** Math.ceil(Math.log10(max));
  const ticks: { v: number; label: string }[] = [];
  for (let v = lo; v <= hi * 1.0001; v *= 10) ticks.push({ v, label: v >= 1 ? String(v) : v.toPrecision(1) });
  return { min: lo, max: hi, ticks };
}
