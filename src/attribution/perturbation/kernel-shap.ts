/**
 * KernelSHAP (Lundberg, Lee 2017) with Captum's `KernelShap` sampling: Shapley values as the
 * coefficients of a linear surrogate `g(z) = f_c(b) + Σ_g φ_g z_g` over coalitions `z ∈ {0,1}^M` of the M
 * feature groups (1: the group takes x's values, 0: the baseline's), fitted by weighted least squares
 * with the Shapley kernel `π(z) = (M − 1) / (C(M, |z|) · |z| · (M − |z|))`.
 *
 * Sampling (as Captum): the first two coalitions are all-ones (x) and all-zeros (the baseline); every
 * further one has a size k drawn with probability ∝ `(M − 1) / (k (M − k))`, k = 1 .. M − 1, and k groups
 * drawn uniformly, so coalitions arrive with probability ∝ π(z) and enter the regression with weight 1.
 * The all-ones and all-zeros coalitions have infinite kernel weight: Captum approximates that with a
 * weight of 10⁶ and a free intercept; here they are exact constraints, `g(0) = f_c(b)` and
 * `Σ φ = f_c(x) − f_c(b)` (efficiency), solved by {@link weightedLeastSquares}. With fewer distinct
 * coalitions than groups the least-squares problem is underdetermined and the minimum-norm solution is
 * returned (Captum's scikit-learn regression does the same).
 *
 * Coalitions are drawn from (seed, sample index), the same for every example with the same number of
 * groups, so the result does not depend on `batchSize` or on an example's position in the batch.
 */
import * as tf from '@tensorflow/tfjs-core';
import { resolveReference } from '../../core/inputs';
import type { ModelLike } from '../../core/model';
import { optionKeys } from '../../core/option-keys';
import { COMMON_OPTION_KEYS, type CommonOptions } from '../../core/options';
import { prepareCall } from '../../core/prepare';
import { deriveSeed, mulberry32 } from '../../core/seeded-random';
import { assertInteger } from '../../core/validate';
import type { CoalitionPlan } from './coalition-scores';
import { featureGroups, type FeatureGroups, type FeatureMask } from './feature-mask';
import { fitSurrogate } from './surrogate-fit';
import { weightedLeastSquares } from './weighted-least-squares';

/** Options of {@link kernelShap}. */
export interface KernelShapOptions extends CommonOptions {
  /**
   * Value of absent features: a number, a tensor shaped like `x`, like one example (`[1, ...]`) or one
   * value per channel (`[C]`); for several inputs, one per input in an array (default 0).
   */
  baseline?: number | tf.Tensor | (number | tf.Tensor)[];
  /** Integer ids grouping the elements into features (see {@link FeatureMask}); default: every element its own feature. */
  featureMask?: FeatureMask;
  /**
   * Coalitions evaluated per example, the all-ones and all-zeros ones included (at least 2; default 200;
   * Captum's default is 25). Use well over the number of groups for a determined regression.
   */
  samples?: number;
  /** Seed of the coalitions: the same seed gives the same result on every backend and for every `batchSize`. */
  seed?: number;
}

const KERNEL_SHAP_KEYS = optionKeys<KernelShapOptions>()('baseline', 'featureMask', 'samples', 'seed', ...COMMON_OPTION_KEYS);

/**
 * KernelSHAP attribution of the target score, shaped like `x` (one tensor per input for a model with
 * several): each element gets its group's Shapley value estimate; the values of an example sum to
 * `f_c(x) − f_c(b)` exactly. Costs `samples` forward passes per example, plus the regression.
 * @example
 * const phi = await kernelShap(model, x, { target: 0, featureMask: superpixelMask(segments), samples: 300, seed: 1 });
 */
export async function kernelShap(model: ModelLike, x: tf.Tensor, options?: KernelShapOptions): Promise<tf.Tensor>;
export async function kernelShap(model: ModelLike, x: tf.Tensor[], options?: KernelShapOptions): Promise<tf.Tensor[]>;
export async function kernelShap(model: ModelLike, x: tf.Tensor | tf.Tensor[], options: KernelShapOptions = {}): Promise<tf.Tensor | tf.Tensor[]> {
  const call = await prepareCall(model, x, options, { keys: KERNEL_SHAP_KEYS, gradients: false });
  let baselines: tf.Tensor[] = [];
  try {
    const samples = options.samples ?? 200;
    assertInteger(samples, 'options.samples', 2);
    const g = await featureGroups(options.featureMask, call.inputs);
    baselines = await resolveReference(options.baseline, call.inputs, 'options.baseline');
    const sample = kernelShapSampler(call.seed);
    const plan: CoalitionPlan = {
      rowsOf: () => samples,
      coalition: (e, row, out, offset) => sample(g.countOf(e), row, out, offset),
    };
    return call.result(
      await fitSurrogate(call, g, baselines, plan, async ({ design, scores }) => {
        // Rows 0 and 1: f(x) and f(b); the regression runs on the rest, with the intercept f(b).
        const problem = tf.tidy(() => {
          const [fx, fb, sampled] = tf.split(scores, [1, 1, samples - 2], 1);
          const targets = tf.sub(sampled, fb) as tf.Tensor2D;
          return {
            design: tf.slice(design, [0, 2, 0], [-1, -1, -1]) as tf.Tensor3D,
            targets,
            weights: tf.onesLike(targets),
            total: tf.reshape(tf.sub(fx, fb), [-1]) as tf.Tensor1D,
            active: activeGroups(g, call.numExamples),
          };
        });
        try {
          return await weightedLeastSquares(problem.design, problem.targets, problem.weights, { total: problem.total, active: problem.active });
        } finally {
          tf.dispose(problem);
        }
      }),
    );
  } finally {
    baselines.forEach((b) => b.dispose());
    call.dispose();
  }
}

/** `[N, width]`: 1 for each example's own groups, 0 for the padding columns. */
function activeGroups(groups: FeatureGroups, numExamples: number): tf.Tensor2D {
  const values = new Float32Array(numExamples * groups.width);
  for (let e = 0; e < numExamples; e++) values.fill(1, e * groups.width, e * groups.width + groups.countOf(e));
  return tf.tensor2d(values, [numExamples, groups.width]);
}

/**
 * KernelSHAP's coalitions for a seed: `(M, s, out, offset)` writes coalition s over M groups (s = 0:
 * all ones, s = 1: all zeros, then a size k with probability ∝ 1 / (k (M − k)) and k groups uniformly
 * at random). With M = 1 every sampled coalition is all ones.
 */
export function kernelShapSampler(seed: number): (groups: number, s: number, out: Float32Array, offset: number) => void {
  const cumulative = new Map<number, Float64Array>();
  let order = new Int32Array(0);
  const sizeDistribution = (m: number): Float64Array => {
    let cdf = cumulative.get(m);
    if (cdf === undefined) {
      cdf = new Float64Array(m - 1);
      let sum = 0;
      for (let k = 1; k < m; k++) cdf[k - 1] = sum += 1 / (k * (m - k));
      cdf.forEach((v, i) => (cdf![i] = v / sum));
      cumulative.set(m, cdf);
    }
    return cdf;
  };
  return (m, s, out, offset) => {
    if (s === 1) return;
    if (s === 0 || m === 1) {
      out.fill(1, offset, offset + m);
      return;
    }
    const next = mulberry32(deriveSeed(seed, s));
    const cdf = sizeDistribution(m);
    const u = next();
    let k = 1;
    while (k < m - 1 && cdf[k - 1] <= u) k++;
    // The first k of a partial Fisher–Yates shuffle.
    if (order.length < m) order = new Int32Array(m);
    for (let i = 0; i < m; i++) order[i] = i;
    for (let i = 0; i < k; i++) {
      const j = i + Math.floor(next() * (m - i));
      const t = order[i];
      order[i] = order[j];
      order[j] = t;
      out[offset + order[i]] = 1;
    }
  };
}
