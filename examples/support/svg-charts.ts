/**
 * Hand-written SVG charts for the example reports: line charts (one line per series over categories)
 * and grids of small histograms. No dependencies; the output opens in any browser.
 */

/** One line of a {@link lineChart}. */
export interface Series {
  name: string;
  values: (number | null)[];
  dashed?: boolean;
  colour?: string;
}

/** A chart panel. */
export interface LinePanel {
  title: string;
  categories: string[];
  series: Series[];
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A "nice" upper axis limit ≥ `max`. */
function niceMax(max: number): number {
  if (!(max > 0)) return 1;
  const step = 10 ** Math.floor(Math.log10(max));
  return [1, 2, 2.5, 5, 10].map((m) => m * step).find((v) => v >= max)!;
}

/** Line charts side by side with a shared y axis (`yLabel`) and one legend. */
export function lineChart(panels: LinePanel[], yLabel: string): string {
  const [w, h, left, top, bottom] = [360, 250, 58, 34, 60];
  const yMax = niceMax(Math.max(...panels.flatMap((p) => p.series.flatMap((s) => s.values.filter((v): v is number => v !== null)))));
  // Bias-corrected estimates dip slightly below 0; the axis starts at 0 unless values are clearly negative.
  const lowest = Math.min(0, ...panels.flatMap((p) => p.series.flatMap((s) => s.values.filter((v): v is number => v !== null))));
  const yMin = lowest < -0.05 * yMax ? -niceMax(-lowest) : 0;
  const names = [...new Set(panels.flatMap((p) => p.series.map((s) => s.name)))];
  const width = panels.length * (w + left) + 150;
  const height = h + top + bottom;
  const out = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`];
  out.push(`<rect width="100%" height="100%" fill="white"/>`);
  panels.forEach((panel, p) => {
    const x0 = p * (w + left) + left;
    const px = (i: number) => x0 + (panel.categories.length === 1 ? w / 2 : (i * w) / (panel.categories.length - 1));
    const py = (v: number) => top + h - ((v - yMin) / (yMax - yMin)) * h;
    out.push(`<text x="${x0 + w / 2}" y="18" text-anchor="middle" font-size="13" font-weight="bold">${escape(panel.title)}</text>`);
    for (let t = 0; t <= 5; t++) {
      const v = yMin + ((yMax - yMin) * t) / 5;
      out.push(`<line x1="${x0}" x2="${x0 + w}" y1="${py(v)}" y2="${py(v)}" stroke="#ddd"/>`);
      out.push(`<text x="${x0 - 6}" y="${py(v) + 4}" text-anchor="end">${+v.toFixed(3)}</text>`);
    }
    panel.categories.forEach((c, i) => {
      out.push(`<text x="${px(i)}" y="${top + h + 16}" text-anchor="end" transform="rotate(-30 ${px(i)} ${top + h + 16})">${escape(c)}</text>`);
    });
    out.push(`<text x="${x0 - 44}" y="${top + h / 2}" text-anchor="middle" transform="rotate(-90 ${x0 - 44} ${top + h / 2})">${escape(yLabel)}</text>`);
    panel.series.forEach((s) => {
      const colour = s.colour ?? PALETTE[names.indexOf(s.name) % PALETTE.length];
      const points = s.values.flatMap((v, i) => (v === null ? [] : [`${px(i).toFixed(1)},${py(v).toFixed(1)}`]));
      out.push(`<polyline fill="none" stroke="${colour}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ''} points="${points.join(' ')}"/>`);
      s.values.forEach((v, i) => v !== null && out.push(`<circle cx="${px(i)}" cy="${py(v)}" r="2.5" fill="${colour}"/>`));
    });
  });
  names.forEach((name, i) => {
    const x = panels.length * (w + left) + 10;
    const y = top + 14 * i;
    out.push(`<line x1="${x}" x2="${x + 18}" y1="${y}" y2="${y}" stroke="${PALETTE[i % PALETTE.length]}" stroke-width="2"/>`);
    out.push(`<text x="${x + 24}" y="${y + 4}">${escape(name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}

/** One cell of a {@link histogramGrid}: counts over equal bins from `min` to `max`. */
export interface HistogramCell {
  counts: number[];
  min: number;
  max: number;
}

/** A grid of histograms: rows × columns with their labels; each histogram scaled to its own peak. */
export function histogramGrid(title: string, rowLabels: string[], columnLabels: string[], cells: HistogramCell[][], xLabel: string): string {
  const [w, h, left, top, gap] = [170, 70, 110, 48, 26];
  const width = left + columnLabels.length * (w + gap);
  const height = top + rowLabels.length * (h + gap) + 20;
  const out = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="10">`];
  out.push(`<rect width="100%" height="100%" fill="white"/>`);
  out.push(`<text x="${width / 2}" y="16" text-anchor="middle" font-size="13" font-weight="bold">${escape(title)}</text>`);
  columnLabels.forEach((c, j) => out.push(`<text x="${left + j * (w + gap) + w / 2}" y="36" text-anchor="middle" font-weight="bold">${escape(c)}</text>`));
  rowLabels.forEach((r, i) => {
    const y0 = top + i * (h + gap);
    out.push(`<text x="${left - 8}" y="${y0 + h / 2}" text-anchor="end">${escape(r)}</text>`);
    cells[i].forEach((cell, j) => {
      const x0 = left + j * (w + gap);
      const peak = Math.max(1, ...cell.counts);
      const bw = w / cell.counts.length;
      out.push(`<rect x="${x0}" y="${y0}" width="${w}" height="${h}" fill="none" stroke="#ccc"/>`);
      cell.counts.forEach((c, b) => {
        const bh = (c / peak) * h;
        out.push(`<rect x="${(x0 + b * bw).toFixed(1)}" y="${(y0 + h - bh).toFixed(1)}" width="${(bw - 0.5).toFixed(1)}" height="${bh.toFixed(1)}" fill="#1f77b4"/>`);
      });
      out.push(`<text x="${x0}" y="${y0 + h + 11}">${+cell.min.toFixed(3)}</text>`);
      out.push(`<text x="${x0 + w}" y="${y0 + h + 11}" text-anchor="end">${+cell.max.toFixed(3)} ${escape(xLabel)}</text>`);
    });
  });
  out.push('</svg>');
  return out.join('\n');
}
