/**
 * Noise tunnel: SmoothGrad (Smilkov et al. 2017), SmoothGrad² and VarGrad (Adebayo et al. 2018) over any
 * base attribution. With `A_i` the base attribution of the noisy sample `x + N(0, σ²)`:
 * smoothgrad = mean(A), smoothgrad_sq = mean(A²), vargrad = mean(A²) − mean(A)².
 *
 * Noise: `stdev` is absolute (Captum's convention); `noiseLevel` is relative to each example's range,
 * σ = noiseLevel · (max(x) − min(x)) (Zennit's convention). Default: `noiseLevel` 0.1 with 20 samples
 * (Zennit's defaults; Captum's stdev 1.0 is far too large for inputs scaled to [0, 1]).
 */
import * as tf from '@tensorflow/tfjs-core';
import { GlassboxArgumentError, throwIfAborted } from '../core/errors';
import { prepareInputs, type InputBatch } from '../core/inputs';
import { resolveModel, type ModelLike } from '../core/model';
import { optionKeys } from '../core/option-keys';
import { checkOptions, COMMON_OPTION_KEYS, type CommonOptions } from '../core/options';
import { resolveTarget, tileTarget } from '../core/target';
import { seedOption, seededNormal } from '../core/seeded-random';
import { assertInteger, assertOneOf } from '../core/validate';
import { gradientXInput, saliency } from './gradient';
import { guidedBackpropIntegratedGradients, guidedIntegratedGradients } from './guided';
import { integratedGradients } from './integrated-gradients';
import { noiseScales } from './noise-scale';

/** An attribution method usable as the base of the noise tunnel. */
export type BaseAttribution = (model: ModelLike, x: tf.Tensor, options: CommonOptions) => Promise<tf.Tensor>;

/** Base methods available by name. */
export const BASE_METHODS = {
  saliency,
  gradientXInput,
  integratedGradients,
  guidedBackpropIntegratedGradients,
  /** @deprecated Renamed `guidedBackpropIntegratedGradients`. */
  guidedIntegratedGradients,
} satisfies Record<string, BaseAttribution>;

/** How the noisy attributions are combined. */
export const NOISE_TUNNEL_KINDS = ['smoothgrad', 'smoothgrad_sq', 'vargrad'] as const;
/** A noise-tunnel combination. */
export type NoiseTunnelKind = (typeof NOISE_TUNNEL_KINDS)[number];

/** Options of {@link smoothGrad}. */
export interface SmoothGradOptions extends CommonOptions {
  /** `'smoothgrad'` (default), `'smoothgrad_sq'` or `'vargrad'`. */
  kind?: NoiseTunnelKind;
  /** Number of noisy samples per example (default 20). */
  samples?: number;
  /** Absolute noise standard deviation σ. Give this or `noiseLevel`. */
  stdev?: number;
  /** Noise relative to each example's value range: σ = noiseLevel · (max − min). Default 0.1. */
  noiseLevel?: number;
  /** Seed of the noise (same seed, same result on every backend). */
  seed?: number;
  /** Base method: a name or any attribution function (default `'saliency'`, i.e. |gradient|). */
  method?: keyof typeof BASE_METHODS | BaseAttribution;
  /** Extra options for the base method, e.g. `{ abs: false }` or `{ steps: 32 }`. */
  baseOptions?: Record<string, unknown>;
}

const SMOOTH_GRAD_KEYS = optionKeys<SmoothGradOptions>()(
  'kind',
  'samples',
  'stdev',
  'noiseLevel',
  'seed',
  'method',
  'baseOptions',
  ...COMMON_OPTION_KEYS,
);

/** Bytes of noisy input copies made at once: the base method chunks the model work itself. */
const NOISY_COPY_BYTES = 64 * 2 ** 20;

/**
 * Noise tunnel over a base attribution, shaped like `x`. Noisy copies are made a group at a time (a
 * bounded number of bytes) and attributed by the base method, which chunks its own model work; each
 * sample's noise comes from its own seed, so results do not depend on `batchSize`. `onProgress` counts
 * the base method's model evaluations over all groups.
 * @example
 * const sg = await smoothGrad(model, x, { target: 1, samples: 50, noiseLevel: 0.15, seed: 7 });
 */
export async function smoothGrad(model: ModelLike, x: tf.Tensor, options: SmoothGradOptions = {}): Promise<tf.Tensor> {
  const common = checkOptions(options, SMOOTH_GRAD_KEYS);
  const kind = options.kind ?? 'smoothgrad';
  assertOneOf(kind, 'options.kind', NOISE_TUNNEL_KINDS);
  const samples = options.samples ?? 20;
  assertInteger(samples, 'options.samples', 1);
  const base = resolveBase(options.method);
  if (options.baseOptions !== undefined && (options.baseOptions === null || typeof options.baseOptions !== 'object')) {
    throw new GlassboxArgumentError('options.baseOptions', 'expected an options object for the base method');
  }
  const seed = seedOption(options.seed);
  const batch = await prepareInputs(x, resolveModel(model, common.output));
  let sigma: tf.Tensor | undefined;
  // Streaming mean and sum of squared deviations (Chan et al.'s parallel update): exact zero variance
  // for identical samples, unlike mean(A²) − mean(A)².
  let mean: tf.Tensor | null = null;
  let m2: tf.Tensor | null = null;
  let seen = 0;
  try {
    if (!batch.single) throw new GlassboxArgumentError('x', 'smoothGrad explains models with one input; pass one tensor');
    const input = batch.tensors[0];
    const n = batch.numExamples;
    const selector = await resolveTarget(options.target, n);
    [sigma] = noiseScales([input], options, { noiseLevel: 0.1 });
    const group = Math.max(1, Math.min(samples, Math.floor(NOISY_COPY_BYTES / (4 * input.size))));
    for (let first = 0; first < samples; first += group) {
      throwIfAborted(common.signal);
      const size = Math.min(group, samples - first);
      const noisy = noisyCopies(batch, sigma, seed, first, size);
      let attributions: tf.Tensor;
      try {
        attributions = await base(model, noisy, {
          ...options.baseOptions,
          target: tileTarget(selector, options.target, size),
          output: common.output,
          batchSize: common.batchSize,
          signal: common.signal,
          // The base counts its model evaluations for this group; scaled to all samples, in the same unit.
          onProgress: common.onProgress && ((done, total) => {
            const perSample = total / size;
            common.onProgress!(first * perSample + done, samples * perSample);
          }),
        });
      } finally {
        noisy.dispose();
      }
      const [nextMean, nextM2] = tf.tidy(() => {
        const stacked = tf.reshape(attributions, [size, ...input.shape]);
        const groupMean = tf.mean(stacked, 0);
        const groupM2 = tf.sum(tf.square(tf.sub(stacked, groupMean)), 0);
        if (mean === null || m2 === null) return [groupMean, groupM2];
        const total = seen + size;
        const delta = tf.sub(groupMean, mean);
        return [
          tf.add(mean, tf.mul(delta, size / total)),
          tf.add(tf.add(m2, groupM2), tf.mul(tf.square(delta), (seen * size) / total)),
        ];
      });
      attributions.dispose();
      mean?.dispose();
      m2?.dispose();
      mean = nextMean;
      m2 = nextM2;
      seen += size;
    }
    throwIfAborted(common.signal);
    const [finalMean, finalM2] = [mean!, m2!];
    return tf.tidy(() => {
      const variance = tf.div(finalM2, seen);
      if (kind === 'smoothgrad') return tf.clone(finalMean);
      if (kind === 'vargrad') return variance;
      return tf.add(variance, tf.square(finalMean));
    });
  } finally {
    sigma?.dispose();
    (mean as tf.Tensor | null)?.dispose();
    (m2 as tf.Tensor | null)?.dispose();
    batch.dispose();
  }
}

/** Samples `first … first + size − 1` of the noisy batch, sample-major: `x + σ ε_s` with ε_s from (seed, s). */
function noisyCopies(batch: InputBatch, sigma: tf.Tensor, seed: number, first: number, size: number): tf.Tensor {
  const input = batch.tensors[0];
  return tf.tidy(() =>
    tf.concat(
      Array.from({ length: size }, (_, s) => tf.add(input, tf.mul(sigma, seededNormal(input.shape, seed, first + s)))),
      0,
    ),
  );
}

function resolveBase(method: SmoothGradOptions['method']): BaseAttribution {
  if (method === undefined) return saliency;
  if (typeof method === 'function') return method;
  assertOneOf(method, 'options.method', Object.keys(BASE_METHODS) as (keyof typeof BASE_METHODS)[]);
  return BASE_METHODS[method];
}
