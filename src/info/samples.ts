/**
 * Validation of the variables of the information estimators: samples on the first axis (`[N, D]`, or
 * `[N]` for one variable), the same N everywhere, class labels in range, enough samples for every
 * covariance.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describeValue, GlassboxArgumentError } from '../core/errors';
import { allFinite, assertInteger } from '../core/validate';

/** Class labels of a discrete variable: an array or a rank-1 int tensor of values 0..numClasses−1. */
export type Labels = number[] | Int32Array | tf.Tensor1D;

/**
 * `x` as a float32 `[N, D]` matrix (a new tensor the caller disposes). Accepts `[N]` (one variable)
 * and `[N, D]`, float32 or int32.
 */
export function samplesMatrix(x: unknown, argument: string): tf.Tensor2D {
  if (!(x instanceof tf.Tensor)) throw new GlassboxArgumentError(argument, `expected a tf.Tensor of samples, got ${describeValue(x)}`);
  if (x.isDisposed) throw new GlassboxArgumentError(argument, 'the tensor has already been disposed');
  if (x.rank !== 1 && x.rank !== 2) {
    throw new GlassboxArgumentError(
      argument,
      `expected samples on the first axis, shape [N] (one variable) or [N, D], got rank ${x.rank} (shape [${x.shape.join(', ')}])`,
    );
  }
  if (x.dtype !== 'float32' && x.dtype !== 'int32') {
    throw new GlassboxArgumentError(argument, `expected a float32 or int32 tensor, got dtype ${x.dtype}`);
  }
  if (x.shape[0] === 0 || (x.rank === 2 && x.shape[1] === 0)) {
    throw new GlassboxArgumentError(argument, `expected at least one sample and one variable, got shape [${x.shape.join(', ')}]`);
  }
  return tf.tidy(() => tf.cast(x.rank === 1 ? tf.expandDims(x, 1) : x, 'float32') as tf.Tensor2D);
}

/** Asserts that `matrix` has `samples` rows (the N of the first variable). */
export function assertSameSamples(matrix: tf.Tensor2D, samples: number, argument: string, first = 'x'): void {
  if (matrix.shape[0] !== samples) {
    throw new GlassboxArgumentError(argument, `expected ${samples} samples (like ${first}) on the first axis, got ${matrix.shape[0]}`);
  }
}

/** Asserts that N samples can estimate a `dims`-dimensional covariance with its bias term: N > dims. */
export function assertEnoughSamples(samples: number, dims: number, argument: string): void {
  if (samples <= dims) {
    throw new GlassboxArgumentError(
      argument,
      `too few samples: ${samples} sample${samples === 1 ? '' : 's'} cannot estimate the covariance of ${dims} ` +
        `variable${dims === 1 ? '' : 's'} (needs more samples than variables)`,
    );
  }
}

/** Validated labels with their class sizes. */
export interface ClassLabels {
  labels: Int32Array;
  counts: number[];
  numClasses: number;
}

/**
 * Reads and validates `labels` (integers in 0..numClasses−1, one per sample); every class must be
 * present. Reads a tensor once.
 */
export async function classLabels(labels: unknown, samples: number, numClasses: unknown, argument: string, classesArgument: string): Promise<ClassLabels> {
  assertInteger(numClasses, classesArgument, 1);
  let values: ArrayLike<number>;
  if (Array.isArray(labels) || labels instanceof Int32Array) values = labels;
  else if (labels instanceof tf.Tensor) {
    if (labels.isDisposed) throw new GlassboxArgumentError(argument, 'the tensor has already been disposed');
    if (labels.rank !== 1) throw new GlassboxArgumentError(argument, `expected a rank-1 tensor of class labels, got ${describeValue(labels)}`);
    values = await labels.data();
  } else {
    throw new GlassboxArgumentError(argument, `expected class labels (number[], Int32Array or a rank-1 tf.Tensor), got ${describeValue(labels)}`);
  }
  if (values.length !== samples) {
    throw new GlassboxArgumentError(argument, `expected one label per sample (${samples}), got ${values.length}`);
  }
  const result = new Int32Array(samples);
  const counts = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < samples; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= numClasses) {
      throw new GlassboxArgumentError(
        argument,
        `label ${i} is ${describeValue(v)}: expected an integer class in 0..${numClasses - 1} (numClasses = ${numClasses})`,
      );
    }
    result[i] = v;
    counts[v]++;
  }
  const empty = counts.flatMap((c, k) => (c === 0 ? [k] : []));
  if (empty.length > 0) {
    throw new GlassboxArgumentError(
      argument,
      `class${empty.length > 1 ? 'es' : ''} ${empty.join(', ')} of 0..${numClasses - 1} ha${empty.length > 1 ? 've' : 's'} no samples; ` +
        'every class needs samples (relabel to the classes present, or lower numClasses)',
    );
  }
  return { labels: result, counts, numClasses };
}

/** Asserts that every class has more than `dims` samples (its covariance of `dims` variables needs them). */
export function assertClassSizes(counts: number[], dims: number, argument: string): void {
  const small = counts.flatMap((c, k) => (c <= dims ? [k] : []));
  if (small.length > 0) {
    throw new GlassboxArgumentError(
      argument,
      `every class needs more than ${dims} sample${dims === 1 ? '' : 's'} to estimate its ${dims}-variable covariance; ` +
        `too small: ${small.map((k) => `class ${k} (${counts[k]})`).join(', ')}`,
    );
  }
}

/** Sample indices of each class. */
export function classMembers({ labels, numClasses }: ClassLabels): Int32Array[] {
  const members = Array.from({ length: numClasses }, () => [] as number[]);
  labels.forEach((k, i) => members[k].push(i));
  return members.map((m) => Int32Array.from(m));
}

/** Asserts that every value of `matrix` is finite (one read). */
export async function assertFiniteSamples(matrix: tf.Tensor, argument: string): Promise<void> {
  const flag = allFinite(matrix);
  const [finite] = await flag.data().finally(() => flag.dispose());
  if (finite !== 1) throw new GlassboxArgumentError(argument, 'contains NaN or infinite values');
}
