/**
 * Soft, randomly shifted masks: a low-resolution mask is bilinearly upsampled to a larger size and a
 * window of the output size is cropped out of it at a given offset (RISE's and MFPP's mask recipe).
 *
 * Drawn in plain JS, one mask at a time into a chunk's buffer that is uploaded once: a bilinear read
 * per output pixel costs less than `tf.image.cropAndResize` on wasm (the slowest kernel of a RISE run
 * there) and the same on every backend.
 */

/** Where a mask's output window lies in its upsampled version. */
export interface ShiftedUpsample {
  /** Size `[U_h, U_w]` the source is upsampled to. */
  upsampled: [number, number];
  /** Size `[H, W]` of the cropped output. */
  output: [number, number];
  /** The window's top-left corner `[dy, dx]` in the upsampled image. */
  offset: [number, number];
}

/**
 * Writes into `out` (`H·W` values, row-major) the source (`h·w` values, row-major) upsampled
 * bilinearly to `upsampled` (half-pixel centres, edges clamped: OpenCV's, PIL's and
 * `tf.image.resizeBilinear(…, false, true)`'s convention) and cropped to the `output` window at
 * `offset`, without materialising the upsampled image: output pixel `y` reads the source at
 * `(y + dy + ½) · h / U_h − ½`, clamped to `[0, h − 1]` (likewise along x).
 */
export function shiftedUpsampleInto(out: Float32Array, source: ArrayLike<number>, [h, w]: [number, number], plan: ShiftedUpsample): void {
  const [height, width] = plan.output;
  const rows = taps(height, h, plan.upsampled[0], plan.offset[0]);
  const columns = taps(width, w, plan.upsampled[1], plan.offset[1]);
  for (let y = 0; y < height; y++) {
    const top = rows.low[y] * w;
    const bottom = rows.high[y] * w;
    const fy = rows.fraction[y];
    for (let x = 0; x < width; x++) {
      const x0 = columns.low[x];
      const x1 = columns.high[x];
      const fx = columns.fraction[x];
      const upper = source[top + x0] + (source[top + x1] - source[top + x0]) * fx;
      const lower = source[bottom + x0] + (source[bottom + x1] - source[bottom + x0]) * fx;
      out[y * width + x] = upper + (lower - upper) * fy;
    }
  }
}

/** Per output index along one axis: the two source indices read and the weight of the second. */
function taps(n: number, size: number, up: number, offset: number): { low: Int32Array; high: Int32Array; fraction: Float64Array } {
  const low = new Int32Array(n);
  const high = new Int32Array(n);
  const fraction = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const coordinate = Math.min(Math.max(((i + offset + 0.5) * size) / up - 0.5, 0), size - 1);
    low[i] = Math.floor(coordinate);
    high[i] = Math.min(low[i] + 1, size - 1);
    fraction[i] = coordinate - low[i];
  }
  return { low, high, fraction };
}
