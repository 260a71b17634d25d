/**
 * SLIC superpixels (Achanta et al. 2012, "SLIC Superpixels Compared to State-of-the-Art Superpixel
 * Methods", TPAMI), with the conventions of scikit-image's `slic`: k-means in the 5-D space of colour
 * (CIELAB for RGB images) and position, where the distance is `D² = d_colour² + (d_xy / S)² · m²`
 * (`S = √(HW / segments)` the grid step, `m` the compactness), each centre searching a window of about
 * `2S × 2S`, followed by connectivity enforcement so that every segment is one 4-connected piece.
 *
 * Pure JavaScript on typed arrays: a per-image preprocessing step (MFPP runs it once per image and
 * pyramid level and reuses it for every mask). A 224×224 image with 800 segments takes tens of ms.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describeValue, GlassboxArgumentError } from '../../core/errors';
import { renamedOption } from '../../core/deprecation';
import { assertInteger, assertNumberInRange } from '../../core/validate';

/** Options of {@link slic}. */
export interface SlicOptions {
  /** Requested number of segments (default 100, as scikit-image). The result has about this many. */
  segments?: number;
  /** Compactness `m`: higher gives squarer segments, lower follows colour more (default 10). */
  compactness?: number;
  /**
   * Standard deviation in pixels of the Gaussian smoothing applied first (default 0: none; MFPP uses 1).
   * Smoothing turns sharp edges into bands of mixed colour, which SLIC gives thin segments of their own
   * that connectivity enforcement then merges away: on images with sharp edges, smoothing > 0 gives
   * fewer segments than requested. (scikit-image calls it `sigma`.)
   */
  smoothing?: number;
  /** @deprecated Renamed `smoothing` (`sigma` is the noise σ elsewhere); removed in the next release. */
  sigma?: number;
  /** k-means iterations (default 10, as scikit-image). */
  iterations?: number;
  /**
   * Connected pieces smaller than `minSizeFactor · HW / segments` pixels are merged into a neighbouring
   * segment (default 0.5, as scikit-image).
   */
  minSizeFactor?: number;
}

/** An image as a typed array: `height · width · channels` values, row-major, channels last. */
export interface PixelArray {
  /** Pixel values in row-major, channel-last order: `data[(y · width + x) · channels + c]`. */
  data: ArrayLike<number>;
  /** Rows. */
  height: number;
  /** Columns. */
  width: number;
  /** Values per pixel. */
  channels: number;
}

/** A segmentation: `labels[y · width + x]` in `0 .. count − 1`; every segment is 4-connected. */
export interface Superpixels {
  /** The segment of every pixel, row-major. */
  labels: Int32Array;
  /** Number of segments. */
  count: number;
  /** Rows. */
  height: number;
  /** Columns. */
  width: number;
}

/**
 * SLIC superpixels of one image: a `tf.Tensor` of shape `[H, W]` or `[H, W, C]`, or a {@link PixelArray}.
 *
 * Colour handling: the image is first rescaled to [0, 1] by its own minimum and maximum (so the result
 * does not depend on the model's input scaling); a 3-channel image is then read as sRGB and converted to
 * CIELAB, as scikit-image does; other channel counts are scaled to [0, 100], the range of CIELAB's L,
 * so the same compactness means the same for grey and colour images.
 * @example
 * const { labels, count } = await slic(image, { segments: 200, compactness: 10, smoothing: 1 });
 */
export async function slic(image: tf.Tensor | PixelArray, options: SlicOptions = {}): Promise<Superpixels> {
  if (image instanceof tf.Tensor) {
    if (image.isDisposed) throw new GlassboxArgumentError('image', 'the tensor has already been disposed');
    if (image.rank !== 2 && image.rank !== 3) {
      throw new GlassboxArgumentError('image', `expected a tensor of shape [H, W] or [H, W, C], got ${describeValue(image)}`);
    }
    const [height, width, channels = 1] = image.shape;
    return slicPixels({ data: await image.data(), height, width, channels }, options);
  }
  return slicPixels(image, options);
}

/** {@link slic} on a {@link PixelArray}, synchronously. */
export function slicPixels(image: PixelArray, options: SlicOptions = {}): Superpixels {
  const { height, width, channels } = validateImage(image);
  const segments = options.segments ?? 100;
  const compactness = options.compactness ?? 10;
  const sigma = renamedOption<number>(options, 'smoothing', 'sigma') ?? 0;
  const iterations = options.iterations ?? 10;
  const minSizeFactor = options.minSizeFactor ?? 0.5;
  assertInteger(segments, 'options.segments', 1);
  assertNumberInRange(compactness, 'options.compactness', { min: 0, minExclusive: true });
  assertNumberInRange(sigma, 'options.smoothing', { min: 0 });
  assertInteger(iterations, 'options.iterations', 1);
  assertNumberInRange(minSizeFactor, 'options.minSizeFactor', { min: 0, max: 1 });

  let features = colourFeatures(image.data, height * width, channels);
  if (sigma > 0) features = gaussianSmooth(features, height, width, channels, sigma);
  const step = Math.sqrt((height * width) / segments);
  const raw = kMeans(features, height, width, channels, step, compactness, iterations);
  return enforceConnectivity(raw, height, width, Math.floor((minSizeFactor * height * width) / segments));
}

function validateImage(image: PixelArray): PixelArray {
  const { height, width, channels, data } = (image ?? {}) as Partial<PixelArray>;
  for (const [name, value] of [['height', height], ['width', width], ['channels', channels]] as const) {
    assertInteger(value, `image.${name}`, 1);
  }
  if (data === undefined || typeof data.length !== 'number' || data.length !== height! * width! * channels!) {
    throw new GlassboxArgumentError(
      'image.data',
      `expected ${height! * width! * channels!} values (height · width · channels), got ${describeValue(data)}`,
    );
  }
  return image;
}

/** Rescales to [0, 1] by the image's range; RGB → CIELAB, other channel counts → [0, 100]. */
function colourFeatures(data: ArrayLike<number>, pixels: number, channels: number): Float32Array {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!Number.isFinite(v)) throw new GlassboxArgumentError('image', 'contains non-finite values');
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const scale = hi > lo ? 1 / (hi - lo) : 0;
  const out = new Float32Array(pixels * channels);
  if (channels !== 3) {
    for (let i = 0; i < out.length; i++) out[i] = (data[i] - lo) * scale * 100;
    return out;
  }
  for (let p = 0; p < pixels; p++) {
    const o = 3 * p;
    rgbToLab((data[o] - lo) * scale, (data[o + 1] - lo) * scale, (data[o + 2] - lo) * scale, out, o);
  }
  return out;
}

/** sRGB in [0, 1] → CIELAB (D65 white, as scikit-image's `rgb2lab`), written to `out[o .. o + 2]`. */
function rgbToLab(r: number, g: number, b: number, out: Float32Array, o: number): void {
  const rl = srgbToLinear(r);
  const gl = srgbToLinear(g);
  const bl = srgbToLinear(b);
  const x = (0.412453 * rl + 0.35758 * gl + 0.180423 * bl) / 0.95047;
  const y = 0.212671 * rl + 0.71516 * gl + 0.072169 * bl;
  const z = (0.019334 * rl + 0.119193 * gl + 0.950227 * bl) / 1.08883;
  const fy = labCompand(y);
  out[o] = y > 0.008856 ? 116 * fy - 16 : 903.3 * y;
  out[o + 1] = 500 * (labCompand(x) - fy);
  out[o + 2] = 200 * (fy - labCompand(z));
}

function srgbToLinear(c: number): number {
  return c > 0.04045 ? Math.pow((c + 0.055) / 1.055, 2.4) : c / 12.92;
}

function labCompand(t: number): number {
  return t > 0.008856 ? Math.cbrt(t) : 7.787 * t + 16 / 116;
}

/** Separable Gaussian smoothing (kernel truncated at 4σ, borders mirrored as scipy's 'reflect'). */
function gaussianSmooth(src: Float32Array, height: number, width: number, channels: number, sigma: number): Float32Array {
  const radius = Math.max(1, Math.round(4 * sigma));
  const kernel = new Float32Array(2 * radius + 1);
  let total = 0;
  for (let k = -radius; k <= radius; k++) total += kernel[k + radius] = Math.exp((-k * k) / (2 * sigma * sigma));
  for (let k = 0; k < kernel.length; k++) kernel[k] /= total;
  const alongRows = smoothAxis(src, width, height, channels, kernel, width * channels, channels);
  return smoothAxis(alongRows, height, width, channels, kernel, channels, width * channels);
}

/**
 * Convolves along one axis: `lines` lines of `length` pixels, consecutive pixels `along` values apart,
 * consecutive lines `across` values apart.
 */
function smoothAxis(
  src: Float32Array,
  length: number,
  lines: number,
  channels: number,
  kernel: Float32Array,
  across: number,
  along: number,
): Float32Array {
  const radius = (kernel.length - 1) / 2;
  // Mirrored source offsets of every tap at every position (scipy 'reflect': d c b a | a b c d | d c b a).
  const taps = new Int32Array(length * kernel.length);
  for (let i = 0; i < length; i++) {
    for (let k = -radius; k <= radius; k++) {
      let j = i + k;
      const period = 2 * length;
      j = ((j % period) + period) % period;
      if (j >= length) j = period - 1 - j;
      taps[i * kernel.length + k + radius] = j * along;
    }
  }
  const out = new Float32Array(src.length);
  for (let line = 0; line < lines; line++) {
    const base = line * across;
    for (let i = 0; i < length; i++) {
      const o = base + i * along;
      for (let c = 0; c < channels; c++) {
        let sum = 0;
        for (let t = 0; t < kernel.length; t++) sum += kernel[t] * src[base + taps[i * kernel.length + t] + c];
        out[o + c] = sum;
      }
    }
  }
  return out;
}

/** SLIC's localised k-means; returns a label per pixel (segments may still be disconnected). */
function kMeans(
  features: Float32Array,
  height: number,
  width: number,
  channels: number,
  step: number,
  compactness: number,
  iterations: number,
): Int32Array {
  // Centres on a regular grid of about `segments` cells.
  const rows = Math.max(1, Math.min(height, Math.round(height / step)));
  const cols = Math.max(1, Math.min(width, Math.round(width / step)));
  const k = rows * cols;
  const stride = channels + 2;
  const centres = new Float64Array(k * stride); // [y, x, colour...]
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const c = (i * cols + j) * stride;
      const y = Math.min(height - 1, Math.floor(((i + 0.5) * height) / rows));
      const x = Math.min(width - 1, Math.floor(((j + 0.5) * width) / cols));
      centres[c] = y;
      centres[c + 1] = x;
      for (let ch = 0; ch < channels; ch++) centres[c + 2 + ch] = features[(y * width + x) * channels + ch];
    }
  }
  // The search window covers at least the grid spacing, so every pixel is reached in the first pass.
  const radius = Math.ceil(Math.max(step, height / rows, width / cols));
  const spatialWeight = (compactness * compactness) / (step * step);
  const pixels = height * width;
  const labels = new Int32Array(pixels).fill(0);
  const distance = new Float32Array(pixels);
  const sums = new Float64Array(k * stride);
  const counts = new Float64Array(k);
  for (let iteration = 0; iteration < iterations; iteration++) {
    distance.fill(Infinity);
    for (let c = 0; c < k; c++) {
      const base = c * stride;
      const cy = centres[base];
      const cx = centres[base + 1];
      const y0 = Math.max(0, Math.floor(cy - radius));
      const y1 = Math.min(height - 1, Math.ceil(cy + radius));
      const x0 = Math.max(0, Math.floor(cx - radius));
      const x1 = Math.min(width - 1, Math.ceil(cx + radius));
      for (let y = y0; y <= y1; y++) {
        const dy2 = (y - cy) * (y - cy);
        let p = y * width + x0;
        for (let x = x0; x <= x1; x++, p++) {
          let d = (dy2 + (x - cx) * (x - cx)) * spatialWeight;
          const f = p * channels;
          if (channels === 3) {
            const d0 = features[f] - centres[base + 2];
            const d1 = features[f + 1] - centres[base + 3];
            const d2 = features[f + 2] - centres[base + 4];
            d += d0 * d0 + d1 * d1 + d2 * d2;
          } else {
            for (let ch = 0; ch < channels; ch++) {
              const dc = features[f + ch] - centres[base + 2 + ch];
              d += dc * dc;
            }
          }
          if (d < distance[p]) {
            distance[p] = d;
            labels[p] = c;
          }
        }
      }
    }
    sums.fill(0);
    counts.fill(0);
    for (let y = 0, p = 0; y < height; y++) {
      for (let x = 0; x < width; x++, p++) {
        const base = labels[p] * stride;
        sums[base] += y;
        sums[base + 1] += x;
        for (let ch = 0; ch < channels; ch++) sums[base + 2 + ch] += features[p * channels + ch];
        counts[labels[p]]++;
      }
    }
    for (let c = 0; c < k; c++) {
      if (counts[c] === 0) continue;
      for (let s = 0; s < stride; s++) centres[c * stride + s] = sums[c * stride + s] / counts[c];
    }
  }
  return labels;
}

/**
 * Relabels 4-connected pieces in raster order; a piece smaller than `minSize` joins the segment of the
 * already-labelled neighbour of its first pixel (so the union stays connected). Labels are 0..count−1.
 */
function enforceConnectivity(labels: Int32Array, height: number, width: number, minSize: number): Superpixels {
  const pixels = height * width;
  const out = new Int32Array(pixels).fill(-1);
  const queue = new Int32Array(pixels);
  let count = 0;
  for (let start = 0; start < pixels; start++) {
    if (out[start] >= 0) continue;
    const label = labels[start];
    const sx = start % width;
    // Raster order: the left or upper neighbour, when present, is already labelled.
    const adjacent = sx > 0 ? out[start - 1] : start >= width ? out[start - width] : -1;
    out[start] = count;
    let head = 0;
    let tail = 0;
    queue[tail++] = start;
    const visit = (q: number): void => {
      if (out[q] < 0 && labels[q] === label) {
        out[q] = count;
        queue[tail++] = q;
      }
    };
    while (head < tail) {
      const p = queue[head++];
      const x = p % width;
      if (x > 0) visit(p - 1);
      if (x < width - 1) visit(p + 1);
      if (p >= width) visit(p - width);
      if (p + width < pixels) visit(p + width);
    }
    if (tail < minSize && adjacent >= 0) {
      for (let i = 0; i < tail; i++) out[queue[i]] = adjacent;
    } else {
      count++;
    }
  }
  return { labels: out, count, height, width };
}
