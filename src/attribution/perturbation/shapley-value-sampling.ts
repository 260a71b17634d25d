/**
 * Shapley value sampling (Castro, Gómez, Tejada 2009; Štrumbelj, Kononenko 2010; Captum's
 * `ShapleyValueSampling`): the Shapley value of a feature group is its mean marginal contribution over
 * random orders of the groups. For each of `samples` random permutations π of the G groups, the groups
 * are added to the baseline one by one in the order π, and group π_k is credited with
 * `f_c(b with π_1..π_k from x) − f_c(b with π_1..π_{k−1} from x)`; the attribution is the mean over the
 * permutations, and every element of a group gets the group's value. The marginals of one permutation
 * sum to `f_c(x) − f_c(b)`, so the attributions do too (efficiency), for any number of samples.
 *
 * Permutations are drawn from (seed, sample index), the same for every example with the same number of
 * groups (Captum also uses one permutation for the whole batch), so the result does not depend on
 * `batchSize` or on an example's position in the batch.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { resolveReference } from '../../core/inputs';
import type { ModelLike } from '../../core/model';
import { optionKeys } from '../../core/option-keys';
import { COMMON_OPTION_KEYS, type CommonOptions } from '../../core/options';
import { prepareCall } from '../../core/prepare';
import { deriveSeed, mulberry32 } from '../../core/seeded-random';
import { assertInteger } from '../../core/validate';
import { coalitionScores, expandGroupValues, rowOffsets, scoreRows, type CoalitionPlan } from './coalition-scores';
import { featureGroups, type FeatureMask } from './feature-mask';
import { randomPermutation } from './mask-random';

/** Options of {@link shapleyValueSampling}. */
export interface ShapleyValueSamplingOptions extends CommonOptions {
  /**
   * Value of absent features: a number, a tensor shaped like `x`, like one example (`[1, ...]`) or one
   * value per channel (`[C]`); for several inputs, one per input in an array (default 0).
   */
  baseline?: number | tf.Tensor | (number | tf.Tensor)[];
  /** Integer ids grouping the elements into features (see {@link FeatureMask}); default: every element its own feature. */
  featureMask?: FeatureMask;
  /** Number of random permutations (default 25, as Captum). The error of the estimate shrinks as `1/√samples`. */
  samples?: number;
  /** Seed of the permutations: the same seed gives the same result on every backend and for every `batchSize`. */
  seed?: number;
}

const SHAPLEY_VALUE_SAMPLING_KEYS = optionKeys<ShapleyValueSamplingOptions>()('baseline', 'featureMask', 'samples', 'seed', ...COMMON_OPTION_KEYS);

/**
 * Shapley value sampling attribution of the target score, shaped like `x` (one tensor per input for a
 * model with several). Costs `2 + samples · (G − 1)` forward passes per example with `G` groups
 * (`f(b)` and `f(x)` once, then every proper prefix of every permutation; Captum evaluates
 * `1 + samples · G`, recomputing `f(x)` for each permutation).
 * @example
 * const phi = await shapleyValueSampling(model, x, { target: 0, featureMask, samples: 50, seed: 1 });
 */
export async function shapleyValueSampling(model: ModelLike, x: tf.Tensor, options?: ShapleyValueSamplingOptions): Promise<tf.Tensor>;
export async function shapleyValueSampling(model: ModelLike, x: tf.Tensor[], options?: ShapleyValueSamplingOptions): Promise<tf.Tensor[]>;
export async function shapleyValueSampling(
  model: ModelLike,
  x: tf.Tensor | tf.Tensor[],
  options: ShapleyValueSamplingOptions = {},
): Promise<tf.Tensor | tf.Tensor[]> {
  const call = await prepareCall(model, x, options, { keys: SHAPLEY_VALUE_SAMPLING_KEYS, gradients: false });
  let baselines: tf.Tensor[] = [];
  try {
    const samples = options.samples ?? 25;
    assertInteger(samples, 'options.samples', 1);
    const g = await featureGroups(options.featureMask, call.inputs);
    baselines = await resolveReference(options.baseline, call.inputs, 'options.baseline');
    const orders = permutationSource(call.seed);
    // Row 0: the baseline; row 1: x; row 2 + s·(G − 1) + (k − 1): the first k groups of permutation s.
    const plan: CoalitionPlan = {
      rowsOf: (e) => 2 + samples * (g.countOf(e) - 1),
      coalition: (e, row, out, offset) => {
        const count = g.countOf(e);
        if (row === 1) out.fill(1, offset, offset + count);
        if (row < 2) return;
        const s = Math.floor((row - 2) / (count - 1));
        const k = ((row - 2) % (count - 1)) + 1;
        const order = orders(count, s);
        for (let j = 0; j < k; j++) out[offset + order[j]] = 1;
      },
    };
    const scores = await coalitionScores(call, g, baselines, plan);
    const rows = await scoreRows(scores, rowOffsets(plan, call.numExamples));
    const values = rows.map((score, e) => {
      const count = g.countOf(e);
      const phi = new Float64Array(count);
      for (let s = 0; s < samples; s++) {
        const order = orders(count, s);
        let previous = score[0];
        for (let k = 1; k <= count; k++) {
          const current = k === count ? score[1] : score[2 + s * (count - 1) + (k - 1)];
          phi[order[k - 1]] += current - previous;
          previous = current;
        }
      }
      return phi.map((v) => v / samples);
    });
    return call.result(expandGroupValues(g, values));
  } finally {
    baselines.forEach((b) => b.dispose());
    call.dispose();
  }
}

/** Permutation `s` of `count` groups for a call's seed (the last one drawn is kept: rows ask in order). */
function permutationSource(seed: number): (count: number, s: number) => Int32Array {
  let key = '';
  let order: Int32Array = new Int32Array(0);
  return (count, s) => {
    if (key !== `${count}:${s}`) {
      key = `${count}:${s}`;
      order = randomPermutation(count, mulberry32(deriveSeed(seed, s)));
    }
    return order;
  };
}
