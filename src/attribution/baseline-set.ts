/**
 * A set of baselines, `[B, ...features]` per model input, for the methods that average over a baseline
 * distribution (DeepLiftShap, GradientShap), as Captum takes them: baseline `j` of the set is row `j` of
 * every input's tensor.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describeValue, GlassboxArgumentError } from '../core/errors';
import { inputArgument, type InputBatch } from '../core/inputs';
import { assertAllFinite } from '../core/validate';

/** Baselines `[B, ...features]`: one tensor, or one per model input (all with the same B). */
export type BaselineSet = tf.Tensor | tf.Tensor[];

/** A validated baseline set: float32 copies `[B, ...features]`, one per input (caller disposes). */
export interface ResolvedBaselineSet {
  readonly tensors: tf.Tensor[];
  /** Number of baselines B. */
  readonly size: number;
}

/**
 * Checks `value` against the inputs (a `[B, ...features]` tensor per input, B ≥ 1, the same B for all,
 * finite values) and returns float32 copies. Errors name `argument` (with `[i]` for several inputs).
 */
export async function resolveBaselineSet(value: unknown, batch: InputBatch, argument: string): Promise<ResolvedBaselineSet> {
  const count = batch.tensors.length;
  if (value === undefined) {
    throw new GlassboxArgumentError(argument, `is required: a tensor [B, ${batch.featureShapes[0].join(', ')}] of baselines${count > 1 ? ', one per model input' : ''}`);
  }
  const list = batch.single ? [value] : value;
  if (!Array.isArray(list) || list.length !== count) {
    throw new GlassboxArgumentError(argument, `expected an array with one baseline tensor [B, ...] per model input (${count}), got ${describeValue(value)}`);
  }
  const names = list.map((_, i) => inputArgument(batch.single, i, argument));
  list.forEach((t: unknown, i) => {
    const features = batch.featureShapes[i];
    const expected = `[B, ${features.join(', ')}] (B baselines shaped like one example)`;
    if (!(t instanceof tf.Tensor)) throw new GlassboxArgumentError(names[i], `expected a tensor ${expected}, got ${describeValue(t)}`);
    if (t.isDisposed) throw new GlassboxArgumentError(names[i], 'the tensor has already been disposed');
    if (t.rank !== features.length + 1 || !t.shape.slice(1).every((d: number, k: number) => d === features[k])) {
      throw new GlassboxArgumentError(names[i], `expected shape ${expected}, got [${t.shape.join(', ')}]`);
    }
    if (t.shape[0] === 0) throw new GlassboxArgumentError(names[i], 'the set is empty (B = 0); give at least one baseline');
    if (t.shape[0] !== (list[0] as tf.Tensor).shape[0]) {
      throw new GlassboxArgumentError(names[i], `expected as many baselines as ${names[0]} (${(list[0] as tf.Tensor).shape[0]}), got ${t.shape[0]}`);
    }
  });
  const tensors = list as tf.Tensor[];
  await assertAllFinite(tensors, (i) => names[i]);
  return { tensors: tensors.map((t) => tf.cast(t, 'float32')), size: tensors[0].shape[0] };
}
