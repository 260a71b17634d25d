/**
 * Soft, randomly shifted masks: a low-resolution mask is bilinearly upsampled to a larger size and a
 * window of the output size is cropped out of it at a given offset (RISE's and MFPP's mask recipe).
 *
 * Drawn in plain JS, one mask at a time into a chunk's buffer that is uploaded once: a bilinear read
 * per output pixel costs less than `tf.image.cropAndResize` on wasm (the slowest kernel of a RISE run
 * there) and the same on every backend.
 */
import { seededInteger } from './mask-random';

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

/** How {@link shiftedMaskBatch} draws one chunk of masks. */
export interface ShiftedMaskPlan {
  /** Size `[h, w]` of the low-resolution sources. */
  source: [number, number];
  /** Size `[U_h, U_w]` the sources are upsampled to. */
  upsampled: [number, number];
  /** Size `[H, W]` of the masks. */
  output: [number, number];
  /** Offsets are drawn uniformly from `[0, shiftRange[0]) × [0, shiftRange[1])`, seeded per mask. */
  shiftRange: [number, number];
  seed: number;
  /** Writes mask `maskIndex`'s low-resolution source (`h·w` values) into `into`. */
  draw: (into: Float32Array, maskIndex: number, row: number) => void;
}

/**
 * The masks `maskIndices` of one chunk, `[maskIndices.length, H, W]` row-major: each one's source
 * drawn by `plan.draw`, upsampled and cropped at its seeded random offset ({@link shiftedUpsampleInto}).
 * A mask depends only on `(seed, maskIndex)`, never on how the masks are chunked.
 */
export function shiftedMaskBatch(maskIndices: ArrayLike<number>, plan: ShiftedMaskPlan): Float32Array {
  const [height, width] = plan.output;
  const source = new Float32Array(plan.source[0] * plan.source[1]);
  const values = new Float32Array(maskIndices.length * height * width);
  for (let row = 0; row < maskIndices.length; row++) {
    const maskIndex = maskIndices[row];
    plan.draw(source, maskIndex, row);
    const offset: [number, number] = [
      seededInteger(plan.shiftRange[0], plan.seed, maskIndex, 1),
      seededInteger(plan.shiftRange[1], plan.seed, maskIndex, 2),
    ];
    shiftedUpsampleInto(values.subarray(row * height * width, (row + 1) * height * width), source, plan.source, {
      upsampled: plan.upsampled,
      output: plan.output,
      offset,
    });
  }
  return values;
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
