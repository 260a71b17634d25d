import * as tfl from '@tensorflow/tfjs-layers';

/** Options of {@link gapFcHead}. */
export interface GapFcHeadArgs {
  /** Widths of the dense layers after the pooling, e.g. the channel counts of the conv layers replaced. */
  units: number[];
  /** Activation of the dense layers (default `'relu'`). */
  activation?: 'relu' | 'linear' | 'elu' | 'selu' | 'tanh' | 'sigmoid' | 'swish';
  /** Prefix of the layer names (default: tfjs's automatic names). */
  name?: string;
}

/**
 * The GAP+FC variant that Fan, Xian, Losch & Schiele (2020) compare `SpatialShuffle` with: spatial
 * information is removed by global average pooling instead of shuffling, and the conv layers that would
 * follow become fully-connected layers of the same widths (a 3×3 conv on a 1×1 map is a dense layer).
 * Returns ordinary tfjs layers, `[GlobalAveragePooling2D, Dense(units[0]), …]`, to add to a Sequential
 * model or apply one after another in a functional one; they serialise as tfjs's own.
 */
export function gapFcHead(args: GapFcHeadArgs): tfl.layers.Layer[] {
  const { units, activation = 'relu', name } = args ?? ({} as GapFcHeadArgs);
  if (!Array.isArray(units) || !units.every((u) => Number.isInteger(u) && u > 0)) {
    throw new Error(`gapFcHead: units must be an array of positive integers, got ${JSON.stringify(units)}`);
  }
  const named = (suffix: string) => (name === undefined ? {} : { name: `${name}_${suffix}` });
  return [
    tfl.layers.globalAveragePooling2d(named('gap')),
    ...units.map((u, i) => tfl.layers.dense({ units: u, activation, ...named(`fc${i + 1}`) })),
  ];
}
