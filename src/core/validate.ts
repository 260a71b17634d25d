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
  await assertAllFinite([x], () => argument);
}

/**
 * A boolean scalar: every value of `t` is finite. Built from `isNaN` and `isInf` rather than `isFinite`,
 * whose webgl kernel lets NaN through on some GPUs (SwiftShader among them).
 */
export function allFinite(t: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const v = tf.cast(t, 'float32');
    return tf.logicalNot(tf.logicalOr(tf.any(tf.isNaN(v)), tf.any(tf.isInf(v))));
  });
}

/** Asserts that every value of every tensor is finite (one read-back in all); errors name `argumentOf(i)`. */
export async function assertAllFinite(tensors: readonly tf.Tensor[], argumentOf: (i: number) => string): Promise<void> {
  if (tensors.length === 0) return;
  const flags = tf.tidy(() =>
    tf.stack(
      tensors.flatMap((t) => {
        const v = tf.cast(t, 'float32');
        return [tf.any(tf.isNaN(v)), tf.any(tf.isInf(v))];
      }),
    ),
  );
  const values = await flags.data();
  flags.dispose();
  for (let i = 0; i < tensors.length; i++) {
    if (values[2 * i]) throw new GlassboxArgumentError(argumentOf(i), 'contains NaN values; expected finite numbers');
    if (values[2 * i + 1]) throw new GlassboxArgumentError(argumentOf(i), 'contains infinite values; expected finite numbers');
  }
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

/** Asserts a boolean and returns it. */
export function assertBoolean(value: unknown, argument: string): boolean {
  if (typeof value !== 'boolean') throw new GlassboxArgumentError(argument, `expected true or false, got ${describeValue(value)}`);
  return value;
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
