/** The validation and set-up every attribution call starts with. */
import * as tf from '@tensorflow/tfjs-core';
import { batchSizeOption, type ChunkPlan } from './chunks';
import { assertFitsModelInput, toForwardFunction, type ForwardFunction, type ModelLike } from './model';
import type { CommonOptions } from './options';
import { resolveTarget, type TargetSelector } from './target';
import { assertBatchedTensor, assertFinite } from './validate';

/** A validated attribution call. `input` is a float32 copy of `x` that {@link PreparedCall.dispose} frees. */
export interface PreparedCall {
  forward: ForwardFunction;
  input: tf.Tensor;
  target: TargetSelector;
  numExamples: number;
  /** Shape of one example, `x.shape.slice(1)`. */
  featureShape: number[];
  batchSize: number;
  /** Chunk plan fields taken from the options (add `total`). */
  plan: Omit<ChunkPlan, 'total'>;
  dispose(): void;
}

/** Validates `model`, `x` (batched, finite) and the common options. */
export async function prepareCall(model: ModelLike, x: unknown, options: CommonOptions): Promise<PreparedCall> {
  const forward = toForwardFunction(model);
  assertBatchedTensor(x, 'x');
  assertFitsModelInput(model, x);
  const batchSize = batchSizeOption(options.batchSize);
  await assertFinite(x, 'x');
  const target = await resolveTarget(options.target, x.shape[0]);
  const input = tf.cast(x, 'float32');
  return {
    forward,
    input,
    target,
    numExamples: x.shape[0],
    featureShape: x.shape.slice(1),
    batchSize,
    plan: { batchSize, onProgress: options.onProgress, signal: options.signal },
    dispose: () => input.dispose(),
  };
}

/** Example indices `[start, start + count)` of the input batch. */
export function exampleRange(start: number, count: number): Int32Array {
  return Int32Array.from({ length: count }, (_, i) => start + i);
}

/** `[count, 1, 1, ...]`: a per-row column that broadcasts against rows of `featureRank` dimensions. */
export function perRow(values: Float32Array | number[], featureRank: number): tf.Tensor {
  return tf.tensor(values, [values.length, ...new Array<number>(featureRank).fill(1)], 'float32');
}
