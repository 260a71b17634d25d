/**
 * Colour maps as data, and the tensor op that applies one.
 *
 * A colour map is a list of RGB anchors evenly spaced over [0, 1]; a value `t` is coloured by linear
 * interpolation between its two neighbouring anchors. 'viridis' and 'inferno' carry matplotlib's full
 * 256-colour tables, so interpolating between them differs from matplotlib (which picks the nearest of
 * its 256 colours) by at most half a table step (< 0.01 per channel). The diverging maps have an odd
 * number of anchors, so 0.5 hits the centre colour exactly and `t`, `1 − t` get mirrored colours.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describeValue, GlassboxArgumentError } from '../core/errors';
import { COOLWARM_COLORS } from './colormaps/coolwarm';
import { INFERNO_COLORS } from './colormaps/inferno';
import { VIRIDIS_COLORS } from './colormaps/viridis';

/** A colour map: RGB anchors in [0, 1], evenly spaced over [0, 1], flattened `[r0, g0, b0, r1, ...]`. */
export interface Colormap {
  /** At least two colours (six numbers), each channel in [0, 1]. */
  readonly colors: readonly number[];
}

/**
 * The built-in colour maps.
 * - Sequential, for magnitudes (saliency, |attribution|): `'viridis'` (the default), `'inferno'`
 *   (black → purple → yellow, matplotlib's 256 colours each), `'gray'` (black → white).
 * - Diverging, for signed attributions (Integrated Gradients, LRP) mapped from [−1, 1] to [0, 1]:
 *   `'bwr'` (blue → white → red, the signed default, pure white at 0), `'coolwarm'` (Moreland 2009,
 *   33 anchors, light grey at 0), `'RdWhGn'` (red → white → green: negative red, Captum's default for
 *   `sign = 'all'`, with matplotlib's 'green' = #008000).
 */
export const COLORMAPS = {
  /** Matplotlib's viridis: sequential, perceptually uniform. */
  viridis: { colors: VIRIDIS_COLORS },
  /** Matplotlib's inferno: sequential, perceptually uniform, black to yellow. */
  inferno: { colors: INFERNO_COLORS },
  /** Black to white. */
  gray: { colors: [0, 0, 0, 1, 1, 1] },
  /** Blue, white, red: diverging, white at the centre (signed maps). */
  bwr: { colors: [0, 0, 1, 1, 1, 1, 1, 0, 0] },
  /** Moreland's cool-warm: diverging, light grey at the centre. */
  coolwarm: { colors: COOLWARM_COLORS },
  /** Red, white, green: diverging (Captum's default for signed maps). */
  RdWhGn: { colors: [1, 0, 0, 1, 1, 1, 0, 0.5019607843137255 /* 128/255, a literal so the table stays side-effect free */, 0] },
} as const satisfies Record<string, Colormap>;

/** Name of a built-in colour map (see {@link COLORMAPS}). */
export type ColormapName = keyof typeof COLORMAPS;

/** The names of the built-in colour maps. */
export const COLORMAP_NAMES = /* @__PURE__ */ Object.keys(COLORMAPS) as readonly ColormapName[];

/** Looks a colour map up by name, or validates a custom one. */
export function resolveColormap(colormap: ColormapName | Colormap, argument = 'options.colormap'): Colormap {
  if (typeof colormap === 'string') {
    if (!Object.prototype.hasOwnProperty.call(COLORMAPS, colormap)) {
      throw new GlassboxArgumentError(
        argument,
        `unknown colour map ${describeValue(colormap)}; expected one of ${COLORMAP_NAMES.map((n) => `'${n}'`).join(', ')} ` +
          'or a { colors: [r0, g0, b0, r1, ...] } object',
      );
    }
    return COLORMAPS[colormap];
  }
  const colors: unknown = (colormap as { colors?: unknown } | null)?.colors;
  const valid =
    Array.isArray(colors) &&
    colors.length >= 6 &&
    colors.length % 3 === 0 &&
    colors.every((c) => typeof c === 'number' && c >= 0 && c <= 1);
  if (!valid) {
    throw new GlassboxArgumentError(
      argument,
      `expected a colour map name (${COLORMAP_NAMES.map((n) => `'${n}'`).join(', ')}) or { colors } with at least ` +
        `two RGB triples in [0, 1], flattened; got ${describeValue(colors ?? colormap)}`,
    );
  }
  return colormap;
}

/**
 * Colours values in [0, 1] (clipped) with a colour map: returns float32 RGB in [0, 1] shaped
 * `[...values.shape, 3]` (caller disposes). `t` lies between anchors `i = ⌊t·(K−1)⌋` and `i + 1` of the
 * K anchors and gets `(1 − f)·c_i + f·c_{i+1}` with `f = t·(K−1) − i`.
 * @throws GlassboxArgumentError for an unknown colour map or non-finite values (one read-back).
 * @example
 * const rgb = applyColormap(tf.linspace(0, 1, 5), 'inferno'); // [5, 3]
 */
export function applyColormap(values: tf.Tensor, colormap: ColormapName | Colormap = 'viridis'): tf.Tensor {
  if (!(values instanceof tf.Tensor) || values.isDisposed) {
    throw new GlassboxArgumentError('values', `expected a live tf.Tensor, got ${describeValue(values)}`);
  }
  const map = resolveColormap(colormap);
  assertFiniteSync(values, 'values');
  return colorize(values, map);
}

/** {@link applyColormap} without validation, for callers that have validated already. */
export function colorize(values: tf.Tensor, map: Colormap): tf.Tensor {
  return tf.tidy(() => {
    const anchors = map.colors.length / 3;
    const table = tf.tensor2d(map.colors as number[], [anchors, 3], 'float32');
    const position = tf.mul(tf.clipByValue(tf.reshape(tf.cast(values, 'float32'), [-1, 1]), 0, 1), anchors - 1);
    const lower = tf.minimum(tf.floor(position), anchors - 2);
    const fraction = tf.sub(position, lower);
    const index = tf.reshape(tf.cast(lower, 'int32'), [-1]);
    const below = tf.gather(table, index);
    const above = tf.gather(table, tf.add(index, tf.scalar(1, 'int32')));
    const rgb = tf.add(below, tf.mul(tf.sub(above, below), fraction));
    return tf.reshape(rgb, [...values.shape, 3]);
  });
}

/** Throws if `x` has a NaN or an infinite element (one synchronous read of two flags). */
function assertFiniteSync(x: tf.Tensor, argument: string): void {
  const flags = tf.tidy(() => {
    const v = tf.cast(x, 'float32');
    return tf.stack([tf.any(tf.isNaN(v)), tf.any(tf.isInf(v))]);
  });
  const [hasNaN, hasInf] = flags.dataSync();
  flags.dispose();
  if (hasNaN) throw new GlassboxArgumentError(argument, 'contains NaN values; only finite values can be coloured');
  if (hasInf) throw new GlassboxArgumentError(argument, 'contains infinite values; only finite values can be coloured');
}
