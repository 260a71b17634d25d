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
import { resolveReference, type Reference } from '../../core/inputs';
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
  baseline?: Reference | Reference[];
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
/** Captum's LIME kernel width on the cosine distance. */
const LIME_KERNEL_WIDTH = 1.0;

/**
 * LIME attribution of the target score, shaped like `x` (one tensor per input for a model with several):
 * each element gets its group's surrogate coefficient. Costs `samples` forward passes per example, plus
 * the Lasso fit (about `groups` small ops per coordinate-descent sweep).
 * @example
 * const weights = await lime(model, x, { target: 0, featureMask: superpixelMask(segments), samples: 500, seed: 1 });
 */
export async function lime(model: ModelLike, x: tf.Tensor, options?: LimeOptions): Promise<tf.Tensor>;
export async function lime(model: ModelLike, x: tf.Tensor[], options?: LimeOptions): Promise<tf.Tensor[]>;
export async function lime(model: ModelLike, x: tf.Tensor | tf.Tensor[], options: LimeOptions = {}): Promise<tf.Tensor | tf.Tensor[]> {
  const call = await prepareCall(model, x, options, { keys: LIME_KEYS, gradients: false });
  let baselines: tf.Tensor[] = [];
  let groups: FeatureGroups | undefined;
  try {
    const samples = options.samples ?? 200;
    assertInteger(samples, 'options.samples', 1);
    groups = await featureGroups(options.featureMask, call.inputs);
    baselines = await resolveReference(options.baseline, call.inputs, 'options.baseline');
    const g = groups;
    const plan: CoalitionPlan = {
      rowsOf: () => samples,
      coalition: (e, s, out, offset) => limeCoalition(g.countOf(e), call.seed, s, out, offset),
      extraTerms: (perturbed, originals) => [cosineKernel(perturbed, originals)],
    };
    return call.result(
      await fitSurrogate(call, g, baselines, plan, async ({ design, scores, extras: [similarity] }) => {
        const fit = await lasso(design, scores, similarity, { alpha: LIME_ALPHA });
        fit.intercept.dispose();
        return fit.coefficients;
      }),
    );
  } finally {
    groups?.dispose();
    baselines.forEach((b) => b.dispose());
    call.dispose();
  }
}

/** LIME coalition s over M groups for a seed: each group on with probability ½. */
export function limeCoalition(groups: number, seed: number, s: number, out: Float32Array, offset: number): void {
  const uniforms = seededUniforms(groups, seed, s);
  for (let k = 0; k < groups; k++) out[offset + k] = uniforms[k] < 0.5 ? 1 : 0;
}

/**
 * `exp(−d² / (2 σ²))` with `d = 1 − cos(x, x')` over all inputs' elements of each row (σ = 1.0), `[rows]`.
 * A zero vector has cosine 0 (PyTorch's `CosineSimilarity` with its ε).
 */
export function cosineKernel(perturbed: tf.Tensor[], originals: tf.Tensor[]): tf.Tensor1D {
  return tf.tidy(() => {
    const rows = perturbed[0].shape[0];
    const perRow = (t: tf.Tensor) => tf.sum(tf.reshape(t, [rows, -1]), 1);
    const sumOver = (f: (i: number) => tf.Tensor) => perturbed.map((_, i) => perRow(f(i))).reduce((a, b) => tf.add(a, b));
    const dot = sumOver((i) => tf.mul(perturbed[i], originals[i]));
    const norms = tf.sqrt(tf.mul(sumOver((i) => tf.square(perturbed[i])), sumOver((i) => tf.square(originals[i]))));
    const distance = tf.sub(1, tf.div(dot, tf.maximum(norms, 1e-8)));
    return tf.exp(tf.div(tf.neg(tf.square(distance)), 2 * LIME_KERNEL_WIDTH ** 2)) as tf.Tensor1D;
  });
}
