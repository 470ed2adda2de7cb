// Pure geometry for the overview's SVG charts: a rolling window of samples and the path data
// that draws them. No DOM, so the numbers are testable under Deno and Bun.

/**
 * A "nice" upper bound for an axis: 1, 2 or 5 times a power of ten, at least `max`.
 * @param {number} max
 * @returns {number}
 */
export function niceCeiling(max) {
  if (!(max > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 5, 10]) if (step * power >= max) return step * power;
  return 10 * power;
}

/**
 * Adds a sample, keeping at most `keep` of the newest. A sample less than `minGap` ms after the
 * previous one replaces it (two views loading at once must not squeeze the time axis).
 * @template {{ t: number }} T
 * @param {T[]} samples
 * @param {T} sample
 * @param {number} keep
 * @param {number} [minGap]
 * @returns {T[]}
 */
export function pushSample(samples, sample, keep, minGap = 0) {
  const last = samples[samples.length - 1];
  const base = last && sample.t - last.t < minGap ? samples.slice(0, -1) : samples;
  const next = base.concat([sample]);
  return next.length > keep ? next.slice(next.length - keep) : next;
}

/**
 * SVG path data for one series: x spreads the samples over `width` (the newest at the right
 * edge), y maps 0..top onto height..0. A single sample draws a flat line across.
 * @param {number[]} values
 * @param {number} top
 * @param {number} width
 * @param {number} height
 * @returns {string}
 */
export function linePath(values, top, width, height) {
  if (values.length === 0) return "";
  const y = (/** @type {number} */ v) => round(height - (Math.min(v, top) / top) * height);
  if (values.length === 1) return `M0 ${y(values[0])}H${width}`;
  const step = width / (values.length - 1);
  return values.map((v, i) => `${i === 0 ? "M" : "L"}${round(i * step)} ${y(v)}`).join("");
}

/**
 * Bars of a histogram: one rectangle per bucket, `gap` apart, heights scaled to `top`.
 * @param {number[]} counts
 * @param {number} top
 * @param {number} width
 * @param {number} height
 * @param {number} gap
 * @returns {{ x: number, y: number, w: number, h: number }[]}
 */
export function bars(counts, top, width, height, gap) {
  if (counts.length === 0) return [];
  const w = (width - gap * (counts.length - 1)) / counts.length;
  return counts.map((c, i) => {
    const h = round((Math.min(c, top) / top) * height);
    return { x: round(i * (w + gap)), y: round(height - h), w: round(w), h };
  });
}

/** @param {number} n */
function round(n) {
  return Math.round(n * 10) / 10;
}
