/** A small dependency-free SVG line chart for the benchmark reports. */

/** One line of a chart. */
export interface Series {
  name: string;
  color: string;
  dashed?: boolean;
  points: [number, number][];
}

/** Chart settings. */
export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  logY?: boolean;
  series: Series[];
  /** A horizontal reference line (e.g. a latency target). */
  hLine?: { y: number; label: string };
}

const W = 720;
const H = 420;
const M = { left: 70, right: 190, top: 40, bottom: 50 };

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function niceTicks(min: number, max: number, log: boolean): number[] {
  if (log) {
    const out: number[] = [];
    for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) {
      out.push(10 ** e);
    }
    return out;
  }
  const span = max - min || 1;
  const step = 10 ** Math.floor(Math.log10(span / 5));
  const mult = [1, 2, 5, 10].find((m) => span / (step * m) <= 6) ?? 10;
  const s = step * mult;
  const out: number[] = [];
  for (let v = Math.ceil(min / s) * s; v <= max + 1e-9; v += s) out.push(v);
  return out;
}

/** Render the chart as an SVG document. */
export function lineChart(o: ChartOptions): string {
  const pts = o.series.flatMap((s) => s.points).filter(([, y]) => Number.isFinite(y));
  const xs = pts.map(([x]) => x);
  const ys = pts.map(([, y]) => (o.logY ? Math.max(y, 0.1) : y));
  if (o.hLine) ys.push(o.hLine.y);
  const xMin = Math.min(...xs, 0);
  const xMax = Math.max(...xs, 1);
  let yMin = o.logY ? 10 ** Math.floor(Math.log10(Math.min(...ys))) : 0;
  let yMax = o.logY ? 10 ** Math.ceil(Math.log10(Math.max(...ys))) : Math.max(...ys) * 1.1;
  if (!(yMax > yMin)) [yMin, yMax] = [o.logY ? 0.1 : 0, 1];
  const px = (x: number) => M.left + ((x - xMin) / (xMax - xMin)) * (W - M.left - M.right);
  const py = (y: number) => {
    const t = o.logY
      ? (Math.log10(Math.max(y, yMin)) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))
      : (y - yMin) / (yMax - yMin);
    return H - M.bottom - t * (H - M.top - M.bottom);
  };
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" ` +
    `font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2 - M.right / 2}" y="22" text-anchor="middle" font-size="15">${
      esc(o.title)
    }</text>`,
  ];
  for (const t of niceTicks(yMin, yMax, !!o.logY)) {
    const y = py(t).toFixed(1);
    parts.push(
      `<line x1="${M.left}" x2="${W - M.right}" y1="${y}" y2="${y}" stroke="#ddd"/>`,
      `<text x="${M.left - 6}" y="${y}" text-anchor="end" dy="4">${t}</text>`,
    );
  }
  for (const t of niceTicks(xMin, xMax, false)) {
    const x = px(t).toFixed(1);
    parts.push(
      `<line x1="${x}" x2="${x}" y1="${M.top}" y2="${H - M.bottom}" stroke="#eee"/>`,
      `<text x="${x}" y="${H - M.bottom + 16}" text-anchor="middle">${
        t.toLocaleString("en-US")
      }</text>`,
    );
  }
  parts.push(
    `<rect x="${M.left}" y="${M.top}" width="${W - M.left - M.right}" height="${
      H - M.top - M.bottom
    }" fill="none" stroke="#888"/>`,
    `<text x="${(M.left + W - M.right) / 2}" y="${H - 10}" text-anchor="middle">${
      esc(o.xLabel)
    }</text>`,
    `<text transform="translate(16 ${(M.top + H - M.bottom) / 2}) rotate(-90)" ` +
      `text-anchor="middle">${esc(o.yLabel)}</text>`,
  );
  if (o.hLine) {
    const y = py(o.hLine.y).toFixed(1);
    parts.push(
      `<line x1="${M.left}" x2="${W - M.right}" y1="${y}" y2="${y}" stroke="#c00" ` +
        `stroke-dasharray="2 3"/>`,
      `<text x="${W - M.right - 4}" y="${y}" dy="-4" text-anchor="end" fill="#c00">${
        esc(o.hLine.label)
      }</text>`,
    );
  }
  o.series.forEach((s, k) => {
    const d = s.points.filter(([, y]) => Number.isFinite(y))
      .map(([x, y], i) => `${i ? "L" : "M"}${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(" ");
    const dash = s.dashed ? ` stroke-dasharray="6 4"` : "";
    parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${dash}/>`);
    for (const [x, y] of s.points.filter(([, y]) => Number.isFinite(y))) {
      parts.push(
        `<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3" fill="${s.color}"/>`,
      );
    }
    const ly = M.top + 10 + k * 20;
    parts.push(
      `<line x1="${W - M.right + 12}" x2="${W - M.right + 40}" y1="${ly}" y2="${ly}" ` +
        `stroke="${s.color}" stroke-width="2"${dash}/>`,
      `<text x="${W - M.right + 46}" y="${ly}" dy="4">${esc(s.name)}</text>`,
    );
  });
  parts.push("</svg>");
  return parts.join("\n") + "\n";
}
