/**
 * GradientSHAP (Lundberg & Lee 2017; Captum's `GradientShap`): the expected gradients of the target
 * score along random straight paths from a baseline distribution to a noisy copy of the input,
 * `A(x) = E_{b, α, ε} [(x̃ − b) ⊙ ∇f_c(b + α(x̃ − b))]`, `x̃ = x + σ·ε`, estimated with `samples` draws per
 * example: a baseline b drawn uniformly from the set, α ~ U(0, 1), Gaussian noise ε ~ N(0, I) of
 * standard deviation `stdev` (0: none). For a model linear in its inputs, `A(x) = (x̃ − b̄) ⊙ w` where `b̄`
 * is the mean of the drawn baselines. Models with several inputs draw one baseline index and one α per
 * sample for all inputs, as Captum does, and the noise per input.
 *
 * Every draw comes from a seed derived from (seed, example, sample), so results do not depend on the
 * chunking (`batchSize`).
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { accumulateOverPoints } from '../core/accumulate';
import { describeValue, GlassboxArgumentError } from '../core/errors';
import type { ModelLike } from '../core/model';
import { optionKeys } from '../core/option-keys';
import { COMMON_OPTION_KEYS, type CommonOptions } from '../core/options';
import { perRow, prepareCall } from '../core/prepare';
import { deriveSeed, mulberry32, seededNormal } from '../core/seeded-random';
import { assertInteger, assertNumberInRange } from '../core/validate';
import { resolveBaselineSet, type BaselineSet } from './baseline-set';

/** Options of {@link gradientShap}. */
export interface GradientShapOptions extends CommonOptions {
  /** Required: the baseline distribution, B baselines `[B, ...features]` (one tensor per model input for several). */
  baselines?: BaselineSet;
  /** Draws per example (default 5, as Captum). */
  samples?: number;
  /** Standard deviation of the Gaussian noise added to the input (default 0); one per input for several. */
  stdev?: number | number[];
  /** Seed of the draws (default: random). */
  seed?: number;
}

const KEYS = optionKeys<GradientShapOptions>()('baselines', 'samples', 'stdev', 'seed', ...COMMON_OPTION_KEYS);

/** The baseline index and the α of one draw. */
export interface GradientShapDraw {
  baseline: number;
  alpha: number;
}

/**
 * Draw `sample` of example `example` for a set of `size` baselines: `j = ⌊u₁·B⌋`, `α = u₂` with `u₁, u₂`
 * the first two numbers of mulberry32 seeded with `deriveSeed(seed, example, sample)`. (The noise of
 * input k is `seededNormal(shape, seed, example, sample, k)`.)
 */
export function gradientShapDraw(seed: number, example: number, sample: number, size: number): GradientShapDraw {
  const random = mulberry32(deriveSeed(seed, example, sample));
  return { baseline: Math.floor(random() * size), alpha: random() };
}

/**
 * GradientSHAP attribution of the target score, shaped like `x` (one tensor per input when `x` is an
 * array): the mean over `samples` draws of `(x̃ − b) ⊙ ∇f_c(b + α(x̃ − b))`.
 * @example
 * const attribution = await gradientShap(model, images, { target: 3, baselines: backgroundImages, samples: 20, seed: 1 });
 */
export async function gradientShap(model: ModelLike, x: tf.Tensor, options?: GradientShapOptions): Promise<tf.Tensor>;
export async function gradientShap(model: ModelLike, x: tf.Tensor[], options?: GradientShapOptions): Promise<tf.Tensor[]>;
export async function gradientShap(model: ModelLike, x: tf.Tensor | tf.Tensor[], options: GradientShapOptions = {}): Promise<tf.Tensor | tf.Tensor[]> {
  const call = await prepareCall(model, x, options, { keys: KEYS, gradients: true });
  try {
    const samples = options.samples ?? 5;
    assertInteger(samples, 'options.samples', 1);
    const stdevs = stdevOption(options.stdev, call.inputs.tensors.length);
    const set = await resolveBaselineSet(options.baselines, call.inputs, 'options.baselines');
    const inputs = call.inputs.tensors;
    try {
      const sums = await accumulateOverPoints<{ differences: tf.Tensor[] }>({
        ...call.plan,
        evaluator: call.evaluator,
        numExamples: call.numExamples,
        total: call.numExamples * samples,
        needs: 'gradients',
        // Row r is draw r mod S of example ⌊r/S⌋: the point b + α(x̃ − b); terms need x̃ − b.
        points: (start, count) => {
          const examples = Int32Array.from({ length: count }, (_, i) => Math.floor((start + i) / samples));
          const draws = Array.from(examples, (e, i) => gradientShapDraw(call.seed, e, (start + i) % samples, set.size));
          const rows = tf.tensor1d(examples, 'int32');
          const chosen = tf.tensor1d(draws.map((d) => d.baseline), 'int32');
          const alphas = draws.map((d) => d.alpha);
          const differences = inputs.map((input, k) => {
            let noisy = tf.gather(input, rows);
            if (stdevs[k] > 0) {
              const shape = call.inputs.featureShapes[k];
              const noise = tf.stack(Array.from(examples, (e, i) => seededNormal(shape, call.seed, e, (start + i) % samples, k)));
              noisy = tf.add(noisy, tf.mul(noise, stdevs[k]));
            }
            return tf.sub(noisy, tf.gather(set.tensors[k], chosen));
          });
          const points = differences.map((difference, k) =>
            tf.add(tf.gather(set.tensors[k], chosen), tf.mul(perRow(alphas, difference.rank - 1), difference)),
          );
          return { inputs: points, examples, extra: { differences } };
        },
        terms: (rows, evaluation) => evaluation.gradients!.map((g, k) => tf.mul(rows.extra.differences[k], g)),
      });
      return call.result(
        tf.tidy(() => {
          const means = sums.map((sum) => tf.div(sum, samples));
          sums.forEach((sum) => sum.dispose());
          return means;
        }),
      );
    } finally {
      set.tensors.forEach((t) => t.dispose());
    }
  } finally {
    call.dispose();
  }
}

/** `options.stdev`: a number ≥ 0 for every input, or one per input. */
function stdevOption(value: unknown, inputs: number): number[] {
  if (value === undefined) return new Array<number>(inputs).fill(0);
  const list = Array.isArray(value) ? value : new Array<unknown>(inputs).fill(value);
  if (list.length !== inputs) {
    throw new GlassboxArgumentError('options.stdev', `expected a number, or one per model input (${inputs}), got ${describeValue(value)}`);
  }
  list.forEach((s, k) => assertNumberInRange(s, Array.isArray(value) ? `options.stdev[${k}]` : 'options.stdev', { min: 0 }));
  return list as number[];
}
