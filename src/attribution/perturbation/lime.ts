/**
 * LIME, Local Interpretable Model-agnostic Explanations (Ribeiro, Singh, Guestrin 2016), with Captum's
 * `Lime` defaults: each of `samples` coalitions switches every feature group on (x's values) or off (the
 * baseline's) with probability ½; each perturbed input is weighted by an exponential kernel of its
 * cosine distance to x over all input elements, `w = exp(−d² / (2 · 1.0²))`, `d = 1 − cos(x, x')`; and a
 * sparse linear surrogate of the target score over the coalitions is fitted by the weighted Lasso with
 * α = 0.01 and a free intercept (scikit-learn's objective, see {@link lasso}). The attribution of a
 * group is its surrogate coefficient.
 *
 * Coalitions are drawn from (seed, sample index), the same for every example with the same number of
 * groups, so the result does not depend on `batchSize` or on an example's position in the batch.
 */
import * as tf from '@tensorflow/tfjs-core';
import { GlassboxArgumentError } from '../../core/errors';
import { resolveReference } from '../../core/inputs';
import type { ModelLike } from '../../core/model';
import { optionKeys } from '../../core/option-keys';
import { COMMON_OPTION_KEYS, type CommonOptions } from '../../core/options';
import { prepareCall } from '../../core/prepare';
import { assertInteger } from '../../core/validate';
import type { CoalitionPlan } from './coalition-scores';
import { featureGroups, type FeatureGroups, type FeatureMask } from './feature-mask';
import { lasso } from './lasso';
import { seededUniforms } from './mask-random';
import { fitSurrogate } from './surrogate-fit';

/** Options of {@link lime}. */
export interface LimeOptions extends CommonOptions {
  /**
   * Value of switched-off features: a number, a tensor shaped like `x`, like one example (`[1, ...]`) or
   * one value per channel (`[C]`); for several inputs, one per input in an array (default 0).
   */
  baseline?: number | tf.Tensor | (number | tf.Tensor)[];
  /** Integer ids grouping the elements into features (see {@link FeatureMask}); default: every element its own feature. */
  featureMask?: FeatureMask;
  /** Random coalitions (forward passes) per example (default 200; Captum's default is 25). */
  samples?: number;
  /** Seed of the coalitions: the same seed gives the same result on every backend and for every `batchSize`. */
  seed?: number;
}

const LIME_KEYS = optionKeys<LimeOptions>()('baseline', 'featureMask', 'samples', 'seed', ...COMMON_OPTION_KEYS);

/** Captum's LIME surrogate: scikit-learn's Lasso with α = 0.01. */
const LIME_ALPHA = 0.01;
/** Most feature groups LIME takes: the Lasso's Gram matrix has `groups²` entries (64 MiB at 4096). */
const LIME_MAX_GROUPS = 4096;
/** Captum's LIME kernel width on the cosine distance. */
const LIME_KERNEL_WIDTH = 1.0;

/**
 * LIME attribution of the target score, shaped like `x` (one tensor per input for a model with several):
 * each element gets its group's surrogate coefficient. Costs `samples` forward passes per example, plus
 * the Lasso fit (seven small ops per group and coordinate-descent sweep).
 * @example
 * const weights = await lime(model, x, { target: 0, featureMask: superpixelMask(segments), samples: 500, seed: 1 });
 */
export async function lime(model: ModelLike, x: tf.Tensor, options?: LimeOptions): Promise<tf.Tensor>;
export async function lime(model: ModelLike, x: tf.Tensor[], options?: LimeOptions): Promise<tf.Tensor[]>;
export async function lime(model: ModelLike, x: tf.Tensor | tf.Tensor[], options: LimeOptions = {}): Promise<tf.Tensor | tf.Tensor[]> {
  const call = await prepareCall(model, x, options, { keys: LIME_KEYS, gradients: false });
  let baselines: tf.Tensor[] = [];
  try {
    const samples = options.samples ?? 200;
    assertInteger(samples, 'options.samples', 1);
    const g = await featureGroups(options.featureMask, call.inputs);
    if (g.width > LIME_MAX_GROUPS) {
      throw new GlassboxArgumentError(
        'options.featureMask',
        `LIME fits one coefficient per feature group and holds their ${g.width}×${g.width} Gram matrix; ${g.width} groups are too many ` +
          `(at most ${LIME_MAX_GROUPS}). Group the elements, e.g. featureMask: superpixelMask(await slic(image)) for images`,
      );
    }
    baselines = await resolveReference(options.baseline, call.inputs, 'options.baseline');
    const plan: CoalitionPlan = {
      rowsOf: () => samples,
      coalition: (e, s, out, offset) => limeCoalition(g.countOf(e), call.seed, s, out, offset),
    };
    const sums = await groupProducts(g, call.inputs.tensors, baselines);
    return call.result(
      await fitSurrogate(call, g, baselines, plan, async ({ coalitions, design, scores }) => {
        const similarity = tf.tensor2d(cosineKernel(coalitions, sums, g.width, samples), [call.numExamples, samples]);
        try {
          const fit = await lasso(design, scores, similarity, { alpha: LIME_ALPHA });
          fit.intercept.dispose();
          return fit.coefficients;
        } finally {
          similarity.dispose();
        }
      }),
    );
  } finally {
    baselines.forEach((b) => b.dispose());
    call.dispose();
  }
}

/** LIME coalition s over M groups for a seed: each group on with probability ½. */
export function limeCoalition(groups: number, seed: number, s: number, out: Float32Array, offset: number): void {
  const uniforms = seededUniforms(groups, seed, s);
  for (let k = 0; k < groups; k++) out[offset + k] = uniforms[k] < 0.5 ? 1 : 0;
}

/** Per example and group, Σ x², Σ b·x and Σ b² over the group's elements in every input. */
interface GroupProducts {
  xx: Float64Array[];
  bx: Float64Array[];
  bb: Float64Array[];
}

/** Reads x and the baselines once and sums their products per example and group. */
async function groupProducts(groups: FeatureGroups, inputs: tf.Tensor[], baselines: tf.Tensor[]): Promise<GroupProducts> {
  const [xs, bs] = await Promise.all([Promise.all(inputs.map((t) => t.data())), Promise.all(baselines.map((t) => t.data()))]);
  const n = inputs[0].shape[0];
  const sums: GroupProducts = { xx: [], bx: [], bb: [] };
  for (let e = 0; e < n; e++) {
    const [xx, bx, bb] = [0, 1, 2].map(() => new Float64Array(groups.width));
    inputs.forEach((input, i) => {
      const size = input.size / n;
      const owner = groups.elementGroups(i, e);
      for (let k = 0; k < size; k++) {
        const [x, b, g] = [xs[i][e * size + k], bs[i][e * size + k], owner[k]];
        xx[g] += x * x;
        bx[g] += b * x;
        bb[g] += b * b;
      }
    });
    sums.xx.push(xx);
    sums.bx.push(bx);
    sums.bb.push(bb);
  }
  return sums;
}

/**
 * LIME's weights: `exp(−d² / (2 σ²))` with `d = 1 − cos(x, x')` over all input elements (σ = 1.0), for
 * every coalition (N · S rows of `width`), from the per-group sums: the perturbed input x' takes x on
 * the groups that are on and b elsewhere, so `x'·x = Σ_on Σx² + Σ_off Σbx` and `‖x'‖² = Σ_on Σx² + Σ_off Σb²`.
 * A zero vector has cosine 0 (PyTorch's `CosineSimilarity` with its ε).
 */
export function cosineKernel(coalitions: Float32Array, sums: GroupProducts, width: number, samples: number): Float32Array {
  const weights = new Float32Array(coalitions.length / width);
  weights.forEach((_, row) => {
    const e = Math.floor(row / samples);
    let [dot, perturbed, original] = [0, 0, 0];
    for (let g = 0; g < width; g++) {
      const on = coalitions[row * width + g] === 1;
      dot += on ? sums.xx[e][g] : sums.bx[e][g];
      perturbed += on ? sums.xx[e][g] : sums.bb[e][g];
      original += sums.xx[e][g];
    }
    const distance = 1 - dot / Math.max(Math.sqrt(perturbed * original), 1e-8);
    weights[row] = Math.exp(-(distance ** 2) / (2 * LIME_KERNEL_WIDTH ** 2));
  });
  return weights;
}
