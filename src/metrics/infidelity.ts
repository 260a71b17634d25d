/**
 * Infidelity (Yeh, Hsieh, Suggala, Inouye, Ravikumar 2019, "On the (In)fidelity and Sensitivity of
 * Explanations"; Captum's `infidelity`): how well the attribution, read as a linear model of the score,
 * predicts the score change under random perturbations `I_k`,
 * `INFD(Φ, f, x) = mean_k (I_kᵀΦ − (f_c(x) − f_c(x − I_k)))²`. Lower is better; 0 means Φ predicts every
 * perturbation's effect exactly.
 *
 * Perturbations (Captum's `perturb_func` convention: it returns the perturbation `I` and the perturbed
 * input `x̃`, and the score change is `f_c(x) − f_c(x̃)`):
 * - default: Gaussian noise `I ~ N(0, σ²)` on every feature, `x̃ = x − I`, σ = `stdev` = 0.1. This
 *   measures how well Φ predicts small, local changes, so it favours *local* attributions (the signed
 *   gradient is exact for a linear model). Captum has no default; its docs use σ = 0.003, and the
 *   authors' code perturbs towards a noisy baseline (σ = 0.2). 0.1 is 10 % of the range of inputs in
 *   [0, 1]: large enough to see the model's curvature, small enough to stay near `x`.
 * - your own `perturbation(x, sample)`, e.g. a random subset of features set to a baseline with the
 *   binary mask as `I` (Captum's "global" perturbations, sensitivity-n), which favours attributions that
 *   already include the input, such as gradient × input and integrated gradients (exact for a linear
 *   model).
 *
 * `normalize: true` first scales Φ by the best factor `β = E[IᵀΦ · Δf] / E[(IᵀΦ)²]` per example (Captum's
 * `normalize`, the authors' code always does), so the score ignores the attribution's scale; a zero
 * denominator gives β = E[IᵀΦ · Δf] as Captum's `safe_div` (β = 0 then, since IᵀΦ = 0 for every sample).
 */
import * as tf from '@tensorflow/tfjs-core';
import { describeValue, GlassboxArgumentError } from '../core/errors';
import type { ModelLike } from '../core/model';
import type { CommonOptions } from '../core/options';
import { optionKeys } from '../core/option-keys';
import { COMMON_OPTION_KEYS } from '../core/options';
import { prepareCall, type PreparedCall } from '../core/prepare';
import { seededNormal } from '../core/seeded-random';
import { assertBatchedTensor, assertFinite, assertInteger, assertNumberInRange, assertOneOf } from '../core/validate';
import { SCORE_TRANSFORMS, type ScoreTransform } from '../core/score-transform';
import { scoreRows } from './scored-rows';

/** A perturbation `I` and the perturbed input `x̃` (Δf = f_c(x) − f_c(x̃)), both shaped like `x`. */
export interface InfidelityPerturbationResult {
  /** The perturbation `I`, shaped like `x`. */
  perturbation: tf.Tensor;
  /** The perturbed input `x̃`, shaped like `x`. */
  perturbed: tf.Tensor;
}

/**
 * A perturbation function of {@link infidelity}: called once per sample `k = 0 … samples − 1` with the
 * whole batch `x` (float32, `[N, ...]`). Returned tensors are disposed by `infidelity`; make them
 * deterministic in `sample` (e.g. a seed derived from it) for reproducible scores.
 */
export type InfidelityPerturbation = (
  x: tf.Tensor,
  sample: number,
) => InfidelityPerturbationResult | Promise<InfidelityPerturbationResult>;

/** Options of {@link infidelity}. */
export interface InfidelityOptions extends CommonOptions {
  /** Number of perturbations `K` per example (default 10, as Captum's `n_perturb_samples`). */
  samples?: number;
  /** σ of the default Gaussian perturbation `I ~ N(0, σ²)` (default 0.1). Not used with `perturbation`. */
  stdev?: number;
  /** Your own perturbations instead of Gaussian noise (see {@link InfidelityPerturbation}). */
  perturbation?: InfidelityPerturbation;
  /** Scale Φ by the best β per example first (default false, as Captum). */
  normalize?: boolean;
  /** Seed of the default Gaussian noise: the same seed gives the same noise on every backend. */
  seed?: number;
  /** Score transform before the target picks the score: `'none'` (default, the raw output), `'softmax'`, `'sigmoid'`. */
  score?: ScoreTransform;
}

const INFIDELITY_KEYS = optionKeys<InfidelityOptions>()('samples', 'stdev', 'perturbation', 'normalize', 'seed', 'score', ...COMMON_OPTION_KEYS);

/**
 * Infidelity of `attribution` (shaped like `x`) for the target score, one value per example, `[N]`
 * (caller disposes). Costs `N · (samples + 1)` forward passes in chunks of at most `batchSize`;
 * `onProgress` counts them.
 * @example
 * const grad = await saliency(model, x, { target: 3, abs: false });
 * const infd = await infidelity(model, x, grad, { target: 3, samples: 50, seed: 1 });
 */
export async function infidelity(model: ModelLike, x: tf.Tensor, attribution: tf.Tensor, options: InfidelityOptions = {}): Promise<tf.Tensor1D> {
  options = options ?? {};
  const samples = options.samples ?? 10;
  assertInteger(samples, 'options.samples', 1);
  const normalize = options.normalize ?? false;
  if (typeof normalize !== 'boolean') throw new GlassboxArgumentError('options.normalize', `expected a boolean, got ${describeValue(normalize)}`);
  const score = options.score ?? 'none';
  assertOneOf(score, 'options.score', SCORE_TRANSFORMS);
  const custom = options.perturbation;
  if (custom !== undefined && typeof custom !== 'function') {
    throw new GlassboxArgumentError('options.perturbation', `expected a function (x, sample) => { perturbation, perturbed }, got ${describeValue(custom)}`);
  }
  if (custom !== undefined && options.stdev !== undefined) {
    throw new GlassboxArgumentError('options.stdev', 'applies to the default Gaussian perturbation only; leave it out when giving options.perturbation');
  }
  const stdev = options.stdev ?? 0.1;
  assertNumberInRange(stdev, 'options.stdev', { min: 0, minExclusive: true });
  const perturb: InfidelityPerturbation =
    custom ??
    ((v, k) =>
      tf.tidy(() => {
        const perturbation = tf.mul(seededNormal(v.shape, call.seed, k), stdev);
        return { perturbation, perturbed: tf.sub(v, perturbation) };
      }));
  const call = await prepareCall(model, x, options, { keys: INFIDELITY_KEYS, gradients: false });
  // Per sample k in use: the perturbed batch and IᵀΦ per example.
  const cache = new Map<number, { perturbed: tf.Tensor; dot: tf.Tensor }>();
  const dots: tf.Tensor[] = [];
  let phi: tf.Tensor | null = null;
  try {
    assertBatchedTensor(attribution, 'attribution');
    if (attribution.rank !== call.inputs.tensors[0].rank || attribution.shape.some((d, i) => d !== call.inputs.tensors[0].shape[i])) {
      throw new GlassboxArgumentError('attribution', `expected shape [${call.inputs.tensors[0].shape.join(', ')}] (like x), got [${attribution.shape.join(', ')}]`);
    }
    await assertFinite(attribution, 'attribution');
    phi = tf.cast(attribution, 'float32');
    const n = call.numExamples;
    const attributionF32 = phi;
    // Rows 0 … N−1: the unperturbed examples; then N rows per sample, sample-major.
    const scores = await scoreRows(call, {
      total: n * (samples + 1),
      score,
      prepare: async (start, count) => {
        const [first, last] = sampleRange(start, count, n);
        for (const [k, entry] of cache) {
          if (k < first) {
            entry.perturbed.dispose();
            cache.delete(k);
          }
        }
        for (let k = Math.max(first, 0); k <= last; k++) {
          if (!cache.has(k)) cache.set(k, await perturbationOf(perturb, call, attributionF32, k, dots));
        }
      },
      rows: (start, count) => {
        const examples = Int32Array.from({ length: count }, (_, i) => (start + i) % n);
        const parts: tf.Tensor[] = [];
        for (let row = start; row < start + count; ) {
          const k = Math.floor(row / n) - 1;
          const end = Math.min(start + count, (k + 2) * n);
          const source = k < 0 ? call.inputs.tensors[0] : cache.get(k)!.perturbed;
          parts.push(tf.slice(source, row % n, end - row));
          row = end;
        }
        return { inputs: parts.length === 1 ? parts[0] : tf.concat(parts, 0), examples };
      },
    });
    try {
      return tf.tidy(() => {
        const original = tf.slice(scores, 0, n);
        const perturbedScores = tf.reshape(tf.slice(scores, n, n * samples), [samples, n]);
        const change = tf.sub(original, perturbedScores); // Δf, [K, N]
        let predicted: tf.Tensor = tf.stack(dots); // IᵀΦ, [K, N]
        if (normalize) {
          const numerator = tf.sum(tf.mul(predicted, change), 0);
          const denominator = tf.sum(tf.square(predicted), 0);
          const beta = tf.div(numerator, tf.where(tf.equal(denominator, 0), tf.onesLike(denominator), denominator));
          predicted = tf.mul(predicted, beta);
        }
        return tf.mean(tf.square(tf.sub(predicted, change)), 0) as tf.Tensor1D;
      });
    } finally {
      scores.dispose();
    }
  } finally {
    cache.forEach((entry) => entry.perturbed.dispose());
    dots.forEach((t) => t.dispose());
    (phi as tf.Tensor | null)?.dispose();
    call.dispose();
  }
}

/** The samples rows `[start, start + count)` touch (−1 stands for the unperturbed rows). */
function sampleRange(start: number, count: number, n: number): [number, number] {
  return [Math.floor(start / n) - 1, Math.floor((start + count - 1) / n) - 1];
}

/**
 * Sample `k`'s perturbed batch (kept) and IᵀΦ per example (pushed to `dots` in sample order). Checks the
 * perturbation function's result and disposes what it returned except the perturbed batch.
 */
async function perturbationOf(
  perturb: InfidelityPerturbation,
  call: PreparedCall,
  phi: tf.Tensor,
  k: number,
  dots: tf.Tensor[],
): Promise<{ perturbed: tf.Tensor; dot: tf.Tensor }> {
  const result = await perturb(call.inputs.tensors[0], k);
  const { perturbation, perturbed } = (result ?? {}) as Partial<InfidelityPerturbationResult>;
  const returned = [perturbation, perturbed].filter((t): t is tf.Tensor => t instanceof tf.Tensor && t !== call.inputs.tensors[0]);
  const release = () => new Set(returned).forEach((t) => t.dispose());
  const shape = `[${call.inputs.tensors[0].shape.join(', ')}]`;
  for (const [name, value] of [['perturbation', perturbation], ['perturbed', perturbed]] as const) {
    if (!(value instanceof tf.Tensor) || value.isDisposed || value.rank !== call.inputs.tensors[0].rank || value.shape.some((d, i) => d !== call.inputs.tensors[0].shape[i])) {
      release();
      throw new GlassboxArgumentError(
        'options.perturbation',
        `must return { perturbation, perturbed }, both shaped like x ${shape}; for sample ${k} '${name}' was ${describeValue(value)}`,
      );
    }
  }
  const entry = tf.tidy(() => ({
    perturbed: tf.cast(perturbed!, 'float32'),
    dot: tf.sum(tf.reshape(tf.mul(tf.cast(perturbation!, 'float32'), phi), [call.numExamples, -1]), 1),
  }));
  release();
  dots.push(entry.dot);
  return entry;
}
