/**
 * Max-sensitivity (Yeh, Hsieh, Suggala, Inouye, Ravikumar 2019, "On the (In)fidelity and Sensitivity of
 * Explanations"; Captum's `sensitivity_max`): how much an explanation changes under a small input
 * perturbation, relative to its size,
 * `SENS_max(Φ, x) = max_k ‖Φ(x) − Φ(x + u_k)‖ / ‖Φ(x)‖`, with `u_k ~ U[−r, r]` element-wise and the
 * Frobenius norm over each example's features. Lower is more robust.
 *
 * As in Captum: r = 0.02, 10 samples, and an explanation with ‖Φ(x)‖ = 0 is divided by 1 instead (its
 * score is then the largest absolute change `max_k ‖Φ(x + u_k)‖`). The noise comes from the library's
 * seeded generator (sample k draws from (seed, k)), so every backend sees the same perturbations.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describeValue, GlassboxArgumentError, throwIfAborted } from '../core/errors';
import { assertKnownOptions, optionKeys } from '../core/option-keys';
import { progressOption, signalOption } from '../core/options';
import { seededUniform, seedOption } from '../core/seeded-random';
import { assertBatchedTensor, assertFinite, assertInteger, assertNumberInRange } from '../core/validate';

/** An explanation function: an attribution shaped like its input batch (e.g. `(v) => saliency(model, v, { target })`). */
export type ExplanationFunction = (x: tf.Tensor) => Promise<tf.Tensor> | tf.Tensor;

/** Options of {@link sensitivityMax}. */
export interface SensitivityMaxOptions {
  /** Half-width `r` of the uniform noise `U[−r, r]` added to every feature (default 0.02, as Captum). */
  radius?: number;
  /** Number of perturbed inputs `K` (default 10, as Captum's `n_perturb_samples`). */
  samples?: number;
  /** Seed of the noise: the same seed gives the same perturbations on every backend. */
  seed?: number;
  /** Called after every sample with the explanations done and the total (`samples + 1`). */
  onProgress?: (done: number, total: number) => void;
  /** Aborting rejects the call with an `AbortError` (checked between explanations) and leaks nothing. */
  signal?: AbortSignal;
}

const SENSITIVITY_MAX_KEYS = optionKeys<SensitivityMaxOptions>()('radius', 'samples', 'seed', 'onProgress', 'signal');

/**
 * Max-sensitivity per example, `[N]` (caller disposes). `explain` is called `samples + 1` times, each time
 * on the whole batch (`x`, then `x + u_k`), so per-example targets stay aligned; it must return a tensor
 * shaped like its input, which this function disposes.
 * @example
 * const sens = await sensitivityMax((v) => saliency(model, v, { target: labels }), images, { seed: 1 });
 */
export async function sensitivityMax(explain: ExplanationFunction, x: tf.Tensor, options: SensitivityMaxOptions = {}): Promise<tf.Tensor1D> {
  assertKnownOptions(options, SENSITIVITY_MAX_KEYS);
  options = options ?? {};
  const onProgress = progressOption(options.onProgress);
  const signal = signalOption(options.signal);
  if (typeof explain !== 'function') {
    throw new GlassboxArgumentError('explain', `expected a function (x) => attribution shaped like x, got ${describeValue(explain)}`);
  }
  const radius = options.radius ?? 0.02;
  assertNumberInRange(radius, 'options.radius', { min: 0, minExclusive: true });
  const samples = options.samples ?? 10;
  assertInteger(samples, 'options.samples', 1);
  const seed = seedOption(options.seed);
  assertBatchedTensor(x, 'x');
  await assertFinite(x, 'x');
  const total = samples + 1;
  const input = tf.cast(x, 'float32');
  let reference: tf.Tensor | null = null;
  let norms: tf.Tensor | null = null;
  let worst: tf.Tensor | null = null;
  try {
    throwIfAborted(signal);
    reference = await explanation(explain, input, -1);
    norms = tf.tidy(() => {
      const norm = perExampleNorm(reference!);
      return tf.where(tf.equal(norm, 0), tf.onesLike(norm), norm);
    });
    onProgress?.(1, total);
    for (let k = 0; k < samples; k++) {
      throwIfAborted(signal);
      const noisy = tf.tidy(() => tf.add(input, seededUniform(input.shape, -radius, radius, seed, k)));
      let perturbed: tf.Tensor;
      try {
        perturbed = await explanation(explain, noisy, k);
      } finally {
        noisy.dispose();
      }
      const previous: tf.Tensor | null = worst;
      worst = tf.tidy((): tf.Tensor => {
        const ratio = tf.div(perExampleNorm(tf.sub(reference!, perturbed)), norms!);
        return previous === null ? ratio : tf.maximum(previous, ratio);
      });
      previous?.dispose();
      perturbed.dispose();
      onProgress?.(k + 2, total);
    }
    throwIfAborted(signal);
    const result = worst as unknown as tf.Tensor1D; // [N]
    worst = null;
    return result;
  } finally {
    input.dispose();
    (reference as tf.Tensor | null)?.dispose();
    (norms as tf.Tensor | null)?.dispose();
    (worst as tf.Tensor | null)?.dispose();
  }
}

/**
 * Calls `explain` on `input` and checks its result. The result is always a tensor this module owns: when
 * `explain` returns its argument, a copy.
 */
async function explanation(explain: ExplanationFunction, input: tf.Tensor, sample: number): Promise<tf.Tensor> {
  const result = await explain(input);
  const where = sample < 0 ? 'on x' : `on perturbed sample ${sample}`;
  if (!(result instanceof tf.Tensor) || result.isDisposed) {
    throw new GlassboxArgumentError('explain', `must return a tf.Tensor shaped like its input; ${where} it returned ${describeValue(result)}`);
  }
  if (result.rank !== input.rank || result.shape.some((d, i) => d !== input.shape[i])) {
    result.dispose();
    throw new GlassboxArgumentError(
      'explain',
      `must return an attribution shaped like its input [${input.shape.join(', ')}]; ${where} it returned shape [${result.shape.join(', ')}]`,
    );
  }
  if (result === input) return tf.clone(result);
  return result;
}

/** Frobenius norm of each example, `[N]`. */
function perExampleNorm(t: tf.Tensor): tf.Tensor {
  const flat = tf.reshape(tf.cast(t, 'float32'), [t.shape[0], -1]);
  return tf.sqrt(tf.sum(tf.square(flat), 1));
}
