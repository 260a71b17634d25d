/**
 * Permutation feature importance (Breiman 2001; Fisher, Rudin, Dominici 2019), as Captum's
 * `FeaturePermutation` computes it per example: for each feature group `g`, the group's values are
 * permuted across the batch (example `e` receives the group's values of example `π_g(e)`, the rest of its
 * own), and the attribution is the drop of the target score,
 * `φ_g(e) = f_c(x_e) − f_c(x_e with group g taken from x_{π_g(e)})`.
 *
 * Each group draws its own permutation of the batch from (seed, group), never the identity (as Captum),
 * so the result does not depend on `batchSize`. The batch must hold at least two examples, and the mask
 * must be the same for every example. One permutation serves all inputs of a group that spans several
 * inputs (Captum draws one per input tensor, which separates the group's parts).
 */
import type * as tf from '@tensorflow/tfjs-core';
import { GlassboxArgumentError } from '../../core/errors';
import type { ModelLike } from '../../core/model';
import { optionKeys } from '../../core/option-keys';
import { COMMON_OPTION_KEYS, type CommonOptions } from '../../core/options';
import { prepareCall } from '../../core/prepare';
import { deriveSeed, mulberry32 } from '../../core/seeded-random';
import { coalitionScores, expandGroupValues, rowOffsets, scoreRows, type CoalitionPlan } from './coalition-scores';
import { featureGroups, type FeatureMask } from './feature-mask';
import { randomPermutation } from './mask-random';

/** Options of {@link featurePermutation}. */
export interface FeaturePermutationOptions extends CommonOptions {
  /**
   * Integer ids grouping the elements into features, shaped like one example (axes of 1 broadcast), or
   * with a batch axis of 1: the groups must be the same for every example. Default: every element its
   * own feature. See {@link FeatureMask}.
   */
  featureMask?: FeatureMask;
  /** Seed of the permutations: the same seed gives the same result on every backend and for every `batchSize`. */
  seed?: number;
}

const FEATURE_PERMUTATION_KEYS = optionKeys<FeaturePermutationOptions>()('featureMask', 'seed', ...COMMON_OPTION_KEYS);

/**
 * Permutation attribution of the target score, shaped like `x` (one tensor per input for several), for a
 * batch of at least two examples. Costs `N · (1 + G)` forward passes (`G` groups).
 * @example
 * const importance = await featurePermutation(model, batch, { target: labels, seed: 1 });
 */
export async function featurePermutation(model: ModelLike, x: tf.Tensor, options?: FeaturePermutationOptions): Promise<tf.Tensor>;
export async function featurePermutation(model: ModelLike, x: tf.Tensor[], options?: FeaturePermutationOptions): Promise<tf.Tensor[]>;
export async function featurePermutation(
  model: ModelLike,
  x: tf.Tensor | tf.Tensor[],
  options: FeaturePermutationOptions = {},
): Promise<tf.Tensor | tf.Tensor[]> {
  const call = await prepareCall(model, x, options, { keys: FEATURE_PERMUTATION_KEYS, gradients: false });
  try {
    const n = call.numExamples;
    if (n < 2) {
      throw new GlassboxArgumentError('x', `featurePermutation permutes features across the batch and needs at least 2 examples, got ${n}`);
    }
    const g = await featureGroups(options.featureMask, call.inputs);
    if (!g.shared) {
      throw new GlassboxArgumentError('options.featureMask', `featurePermutation needs the same groups for every example: give the mask without a batch axis, or with a batch axis of 1`);
    }
    const permutations = Array.from({ length: g.width }, (_, k) => batchPermutation(n, call.seed, k));
    // Row 0: x itself; row 1 + k: group k taken from example π_k(e).
    const plan: CoalitionPlan = {
      rowsOf: () => 1 + g.width,
      coalition: (_e, row, out, offset) => {
        out.fill(1, offset, offset + g.width);
        if (row > 0) out[offset + row - 1] = 0;
      },
      referenceExample: (e, row) => (row === 0 ? e : permutations[row - 1][e]),
    };
    const scores = await coalitionScores(call, g, call.inputs.tensors, plan);
    const rows = await scoreRows(scores, rowOffsets(plan, n));
    const drops = rows.map((s) => Float64Array.from({ length: g.width }, (_, k) => s[0] - s[1 + k]));
    return call.result(expandGroupValues(g, drops));
  } finally {
    call.dispose();
  }
}

/** A seeded permutation of `0 .. n − 1` for (seed, group) that is not the identity (n ≥ 2). */
export function batchPermutation(n: number, seed: number, group: number): Int32Array {
  const next = mulberry32(deriveSeed(seed, group));
  for (;;) {
    const order = randomPermutation(n, next);
    if (!order.every((v, i) => v === i)) return order;
  }
}
