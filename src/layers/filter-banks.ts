/**
 * The fixed filter banks of `EdgeFilterStem`: named 2-D kernels and their assembly into one
 * convolution kernel.
 *
 * Kernels are written as they are applied: as cross-correlations (the tfjs/TensorFlow convention),
 * rows top to bottom, columns left to right. So `sobel-x` responds positively where intensity grows to
 * the right and `sobel-y` where it grows downwards.
 */
import { GlassboxArgumentError } from '../core/errors';

/** The named filters an `EdgeFilterStem` bank can hold. */
export type FilterName =
  | 'identity'
  | 'sobel-x'
  | 'sobel-y'
  | 'prewitt-x'
  | 'prewitt-y'
  | 'laplacian'
  | 'scharr-x'
  | 'scharr-y'
  | 'roberts-x'
  | 'roberts-y';

/** One filter of a bank: a name, or a custom rectangular kernel (rows of numbers). */
export type FilterSpec = FilterName | number[][];

/** The named kernels (Sobel 1968, Prewitt 1970, Scharr 2000, Roberts 1963; 4-neighbour Laplacian). */
export const FILTER_KERNELS: Readonly<Record<FilterName, readonly (readonly number[])[]>> = {
  identity: [[1]],
  'sobel-x': [
    [-1, 0, 1],
    [-2, 0, 2],
    [-1, 0, 1],
  ],
  'sobel-y': [
    [-1, -2, -1],
    [0, 0, 0],
    [1, 2, 1],
  ],
  'prewitt-x': [
    [-1, 0, 1],
    [-1, 0, 1],
    [-1, 0, 1],
  ],
  'prewitt-y': [
    [-1, -1, -1],
    [0, 0, 0],
    [1, 1, 1],
  ],
  laplacian: [
    [0, 1, 0],
    [1, -4, 1],
    [0, 1, 0],
  ],
  'scharr-x': [
    [-3, 0, 3],
    [-10, 0, 10],
    [-3, 0, 3],
  ],
  'scharr-y': [
    [-3, -10, -3],
    [0, 0, 0],
    [3, 10, 3],
  ],
  'roberts-x': [
    [1, 0],
    [0, -1],
  ],
  'roberts-y': [
    [0, 1],
    [-1, 0],
  ],
};

/** The default bank (Jung & Kwon): identity, Sobel x/y, Prewitt x/y, Laplacian. */
export const DEFAULT_FILTERS: readonly FilterName[] = [
  'identity',
  'sobel-x',
  'sobel-y',
  'prewitt-x',
  'prewitt-y',
  'laplacian',
];

/** Every accepted filter name. */
export const FILTER_NAMES = /* @__PURE__ */ Object.keys(FILTER_KERNELS) as FilterName[];

/** A bank resolved to square kernels of one odd size, ready to be laid out as a convolution kernel. */
export interface ResolvedBank {
  /** Side of the common square kernel (odd). */
  size: number;
  /** One row-major `size × size` kernel per filter. */
  kernels: Float32Array[];
  /** A label per filter: its name, or `custom-<index>` for a custom kernel. */
  labels: string[];
}

/**
 * Validates a bank and embeds every kernel in a common odd square size `K` so that a `'same'`
 * convolution with the embedded kernel equals TensorFlow's `'same'` convolution with the original one:
 * a `kh × kw` kernel sits at row offset `⌊(K−1)/2⌋ − ⌊(kh−1)/2⌋` (columns likewise), since `'same'`
 * pads `⌊(k−1)/2⌋` before. A 2×2 Roberts kernel thus reads the pixel and its right/lower neighbours.
 * @throws on an empty bank, an unknown name, or a custom kernel that is ragged, empty, non-finite or all
 *   zero.
 */
export function resolveFilterBank(filters: unknown): ResolvedBank {
  if (!Array.isArray(filters) || filters.length === 0) {
    throw new GlassboxArgumentError('config.filters', `expected a non-empty array of filter names or kernels, got ${describe(filters)}`);
  }
  const raw = filters.map((spec: unknown, i) => resolveOne(spec as FilterSpec, i));
  const maxSide = Math.max(...raw.map((k) => Math.max(k.length, k[0].length)));
  const size = maxSide % 2 === 1 ? maxSide : maxSide + 1;
  const centre = Math.floor((size - 1) / 2);
  const kernels = raw.map((k) => {
    const out = new Float32Array(size * size);
    const top = centre - Math.floor((k.length - 1) / 2);
    const left = centre - Math.floor((k[0].length - 1) / 2);
    k.forEach((row, r) => row.forEach((v, c) => (out[(top + r) * size + left + c] = v)));
    return out;
  });
  const labels = filters.map((spec: unknown, i) => (typeof spec === 'string' ? spec : `custom-${i}`));
  return { size, kernels, labels };
}

function resolveOne(spec: FilterSpec, index: number): readonly (readonly number[])[] {
  if (typeof spec === 'string') {
    if (!(spec in FILTER_KERNELS)) {
      throw new GlassboxArgumentError(`config.filters[${index}]`, `unknown filter name '${spec}'; expected one of ${FILTER_NAMES.join(', ')}`);
    }
    return FILTER_KERNELS[spec];
  }
  const isRectangular =
    Array.isArray(spec) &&
    spec.length > 0 &&
    spec.every((row) => Array.isArray(row) && row.length === spec[0].length && row.length > 0);
  if (!isRectangular) {
    throw new GlassboxArgumentError(`config.filters[${index}]`, `expected a filter name or a non-empty rectangular number[][] kernel, got ${describe(spec)}`);
  }
  const values = spec.flat();
  if (!values.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    throw new GlassboxArgumentError(`config.filters[${index}]`, `kernel entries must be finite numbers, got ${describe(spec)}`);
  }
  if (values.every((v) => v === 0)) {
    throw new GlassboxArgumentError(`config.filters[${index}]`, `kernel must not be all zero`);
  }
  return spec;
}

function describe(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
