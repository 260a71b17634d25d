/**
 * Targets: which output score of the model an attribution explains.
 *
 * - a number: the same output index for every example;
 * - `number[]` or an int `tf.Tensor1D`: one output index per example;
 * - a function from the model output (for a chunk of rows) to one score per row.
 *
 * Outputs of rank > 2 (e.g. segmentation maps) are indexed in their flattened per-example layout.
 * A model with a single output per example needs no target.
 */
import * as tf from '@tensorflow/tfjs-core';
import { oneHotRows } from './one-hot';
import { describeValue, GlassboxArgumentError, GlassboxModelError } from './errors';

/** Which score to explain: a class index, one index per example, or a score function. */
export type Target = number | number[] | tf.Tensor1D | TargetFunction;

/**
 * A score function: from the model output for a chunk of rows, `[rows, ...]`, to one score per row,
 * `[rows]`. `examples[r]` is the example row `r` belongs to (path points, noisy and masked copies keep
 * their example), for scores that differ per example. It is called once per chunk, so it must not
 * assume it sees the whole batch.
 */
export type TargetFunction = (output: tf.Tensor, examples: Int32Array) => tf.Tensor1D;

/** Selects one score per row of a model output; rows carry the index of the example they belong to. */
export interface TargetSelector {
  /**
   * Scores `[rows]` of an output `[rows, ...]`. `examples[r]` is the example row `r` was derived from
   * (interpolation points, noisy copies and masked copies all keep their example's target).
   */
  select(output: tf.Tensor, examples: Int32Array): tf.Tensor1D;
  /** The per-example indices, when the target is an index (null for score functions). */
  readonly indices: Int32Array | null;
}

/**
 * Validates a target for a batch of `batchSize` examples. Reads an index tensor once; index ranges are
 * checked against the model output when it is first seen.
 */
export async function resolveTarget(target: Target | undefined, batchSize: number, argument = 'options.target'): Promise<TargetSelector> {
  if (typeof target === 'function') return functionTarget(target, argument);
  if (target === undefined) return indexTarget(null, argument);
  if (typeof target === 'number') {
    assertIndex(target, argument);
    return indexTarget(new Int32Array(batchSize).fill(target), argument);
  }
  let values: ArrayLike<number>;
  if (Array.isArray(target)) values = target;
  else if (target instanceof tf.Tensor) {
    if (target.rank !== 1) throw new GlassboxArgumentError(argument, `expected a rank-1 tensor of class indices, got ${describeValue(target)}`);
    values = await target.data();
  } else {
    throw new GlassboxArgumentError(argument, `expected a class index, an array or tensor of indices, or a function, got ${describeValue(target)}`);
  }
  if (values.length !== batchSize) {
    throw new GlassboxArgumentError(argument, `expected one index per example (${batchSize}), got ${values.length}`);
  }
  const indices = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    assertIndex(values[i], `${argument}[${i}]`);
    indices[i] = values[i];
  }
  return indexTarget(indices, argument);
}

function assertIndex(value: unknown, argument: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new GlassboxArgumentError(argument, `expected a non-negative integer output index, got ${describeValue(value)}`);
  }
}

function indexTarget(indices: Int32Array | null, argument: string): TargetSelector {
  return {
    indices,
    select(output, examples) {
      const rows = output.shape[0];
      const width = output.size / Math.max(rows, 1);
      if (output.rank === 0 || rows !== examples.length) {
        throw new GlassboxModelError(
          `the model returned shape [${output.shape.join(', ')}] for a batch of ${examples.length}; expected the batch axis first`,
        );
      }
      const flat = tf.reshape(output, [rows, width]);
      if (indices === null) {
        if (width !== 1) {
          throw new GlassboxArgumentError(
            argument,
            `is required: the model gives ${width} outputs per example; pass a class index (0..${width - 1}), one index per example, or a score function`,
          );
        }
        return tf.reshape(flat, [rows]) as tf.Tensor1D;
      }
      const rowIndices = new Int32Array(rows);
      for (let r = 0; r < rows; r++) {
        const index = indices[examples[r]];
        if (index >= width) {
          throw new GlassboxArgumentError(
            argument,
            `index ${index} is out of range: the model gives ${width} outputs per example (valid 0..${width - 1})`,
          );
        }
        rowIndices[r] = index;
      }
      const mask = oneHotRows(rowIndices, width);
      return tf.sum(tf.mul(flat, mask), 1) as tf.Tensor1D;
    },
  };
}

function functionTarget(fn: TargetFunction, argument: string): TargetSelector {
  return {
    indices: null,
    select(output, examples) {
      const scores = fn(output, examples);
      if (!(scores instanceof tf.Tensor) || scores.rank !== 1 || scores.shape[0] !== examples.length) {
        throw new GlassboxArgumentError(
          argument,
          `the target function must return one score per row, shape [${examples.length}], got ${describeValue(scores)}`,
        );
      }
      return scores;
    },
  };
}

/**
 * The target for `copies` stacked copies of a batch (copy-major, e.g. noisy samples of every example):
 * indices are repeated, score functions apply row-wise and stay as they are.
 */
export function tileTarget(selector: TargetSelector, target: Target | undefined, copies: number): Target | undefined {
  if (selector.indices === null) return target;
  const tiled = new Array<number>(selector.indices.length * copies);
  for (let i = 0; i < tiled.length; i++) tiled[i] = selector.indices[i % selector.indices.length];
  return tiled;
}
