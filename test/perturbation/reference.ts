/** Plain-JS reference implementations for the perturbation tests (independent of tfjs ops). */

/**
 * Bilinear upsampling of an `h × w` image to `up` (half-pixel centres, edge clamping) and the
 * `out`-sized crop at `offset`, computed pixel by pixel.
 */
export function upsampleAndCrop(
  source: ArrayLike<number>,
  [h, w]: [number, number],
  [upH, upW]: [number, number],
  [outH, outW]: [number, number],
  [dy, dx]: [number, number],
): Float64Array {
  const sample = (coordinate: number, size: number): [number, number, number] => {
    const c = Math.min(Math.max(coordinate, 0), size - 1);
    const lo = Math.floor(c);
    const hi = Math.min(lo + 1, size - 1);
    return [lo, hi, c - lo];
  };
  const out = new Float64Array(outH * outW);
  for (let y = 0; y < outH; y++) {
    const [y0, y1, fy] = sample(((y + dy + 0.5) * h) / upH - 0.5, h);
    for (let x = 0; x < outW; x++) {
      const [x0, x1, fx] = sample(((x + dx + 0.5) * w) / upW - 0.5, w);
      const top = source[y0 * w + x0] * (1 - fx) + source[y0 * w + x1] * fx;
      const bottom = source[y1 * w + x0] * (1 - fx) + source[y1 * w + x1] * fx;
      out[y * outW + x] = top * (1 - fy) + bottom * fy;
    }
  }
  return out;
}

/** Share of the top-decile pixels of `map` (one value per pixel) that lie inside `region`. */
export function topDecileInside(map: ArrayLike<number>, region: (pixel: number) => boolean): number {
  const order = Array.from({ length: map.length }, (_, i) => i).sort((a, b) => map[b] - map[a]);
  const top = order.slice(0, Math.ceil(map.length / 10));
  return top.filter(region).length / top.length;
}
