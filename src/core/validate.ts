/** Input validation shared by every public function. */
import * as tf from '@tensorflow/tfjs-core';
import { describeValue, GlassboxArgumentError } from './errors';

/** Asserts that `value` is a tfjs tensor of at least `minRank` dimensions with a batch axis. */
export function assertBatchedTensor(value: unknown, argument: string, minRank = 2): asserts value is tf.Tensor {
  if (!(value instanceof tf.Tensor)) {
    throw new GlassboxArgumentError(argument, `expected a tf.Tensor, got ${describeValue(value)}`);
  }
  if (value.isDisposed) throw new GlassboxArgumentError(argument, 'the tensor has already been disposed');
  if (value.rank < minRank) {
    throw new GlassboxArgumentError(
      argument,
      `expected a batched tensor of rank >= ${minRank} (batch axis first), got rank ${value.rank} ` +
        `(shape [${value.shape.join(', ')}]); add a batch axis with tf.expandDims(x, 0)`,
    );
  }
  if (value.shape[0] === 0) throw new GlassboxArgumentError(argument, 'the batch is empty (shape[0] = 0)');
  if (value.dtype !== 'float32' && value.dtype !== 'int32') {
    throw new GlassboxArgumentError(argument, `expected a float32 or int32 tensor, got dtype ${value.dtype}`);
  }
}

/** Asserts that every element of `x` is finite (one read-back, no loop). */
export async function assertFinite(x: tf.Tensor, argument: string): Promise<void> {
  const flags = tf.tidy(() => {
    const v = tf.cast(x, 'float32');
    return tf.stack([tf.any(tf.isNaN(v)), tf.any(tf.isInf(v))]);
  });
  const [hasNaN, hasInf] = await flags.data();
  flags.dispose();
  if (hasNaN) throw new GlassboxArgumentError(argument, 'contains NaN values; attributions need finite input');
  if (hasInf) throw new GlassboxArgumentError(argument, 'contains infinite values; attributions need finite input');
}

/** Asserts an integer >= `min`. */
export function assertInteger(value: unknown, argument: string, min: number): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new GlassboxArgumentError(argument, `expected an integer >= ${min}, got ${describeValue(value)}`);
  }
}

/** Asserts a finite number in the given open/closed range. */
export function assertNumberInRange(
  value: unknown,
  argument: string,
  range: { min?: number; max?: number; minExclusive?: boolean; maxExclusive?: boolean },
): asserts value is number {
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (range.min === undefined || (range.minExclusive ? value > range.min : value >= range.min)) &&
    (range.max === undefined || (range.maxExclusive ? value < range.max : value <= range.max));
  if (!ok) {
    const lo = range.min === undefined ? '(-∞' : `${range.minExclusive ? '(' : '['}${range.min}`;
    const hi = range.max === undefined ? '∞)' : `${range.max}${range.maxExclusive ? ')' : ']'}`;
    throw new GlassboxArgumentError(argument, `expected a number in ${lo}, ${hi}, got ${describeValue(value)}`);
  }
}

/** Asserts that `value` is one of `allowed`. */
export function assertOneOf<T extends string>(value: unknown, argument: string, allowed: readonly T[]): asserts value is T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new GlassboxArgumentError(
      argument,
      `expected one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${describeValue(value)}`,
    );
  }
}

/**
 * Resolves a baseline (a number, or a tensor shaped like `x` or like `[1, ...x.shape.slice(1)]`) to a
 * tensor broadcastable against `x`. The caller owns the returned tensor.
 */
export function resolveBaseline(baseline: number | tf.Tensor | undefined, x: tf.Tensor, argument = 'options.baseline'): tf.Tensor {
  if (baseline === undefined) return tf.zerosLike(x);
  if (typeof baseline === 'number') {
    if (!Number.isFinite(baseline)) throw new GlassboxArgumentError(argument, `expected a finite number, got ${describeValue(baseline)}`);
    return tf.fill(x.shape, baseline, 'float32');
  }
  if (!(baseline instanceof tf.Tensor)) {
    throw new GlassboxArgumentError(argument, `expected a number or a tf.Tensor, got ${describeValue(baseline)}`);
  }
  const featureShape = x.shape.slice(1);
  const sameFeatures =
    baseline.rank === x.rank && baseline.shape.slice(1).every((d, i) => d === featureShape[i]);
  if (!sameFeatures || (baseline.shape[0] !== x.shape[0] && baseline.shape[0] !== 1)) {
    throw new GlassboxArgumentError(
      argument,
      `expected shape [${x.shape.join(', ')}] or [1, ${featureShape.join(', ')}] (like the input), ` +
        `got [${baseline.shape.join(', ')}]`,
    );
  }
  return tf.tidy(() => tf.add(tf.zerosLike(x), tf.cast(baseline, 'float32')));
}

/**
 * Asserts that `options` has no keys outside `allowed`; an unknown key is reported with the nearest
 * valid one (a typo such as `permutation` for `permutations`).
 */
export function assertKnownKeys(options: object, allowed: readonly string[], argument = 'options'): void {
  for (const key of Object.keys(options)) {
    if (allowed.includes(key)) continue;
    const nearest = allowed.reduce((best, candidate) => (editDistance(key, candidate) < editDistance(key, best) ? candidate : best), allowed[0]);
    throw new GlassboxArgumentError(`${argument}.${key}`, `unknown option; did you mean '${nearest}'? Valid options: ${allowed.join(', ')}`);
  }
}

/** Levenshtein distance between two short strings. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}
