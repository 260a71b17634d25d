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
import { batchSizeOption } from '../core/chunks';
import { GlassboxArgumentError, throwIfAborted } from '../core/errors';
import type { ModelLike } from '../core/model';
import type { CommonOptions } from '../core/options';
import { resolveTarget, tileTarget } from '../core/target';
import { seedOption, seededNormal } from '../core/seeded-random';
import { assertBatchedTensor, assertFinite, assertInteger, assertNumberInRange, assertOneOf } from '../core/validate';
import { gradientXInput, saliency } from './gradient';
import { guidedIntegratedGradients } from './guided';
import { integratedGradients } from './integrated-gradients';

/** An attribution method usable as the base of the noise tunnel. */
export type BaseAttribution = (model: ModelLike, x: tf.Tensor, options: CommonOptions) => Promise<tf.Tensor>;

/** Base methods available by name. */
export const BASE_METHODS = {
  saliency,
  gradientXInput,
  integratedGradients,
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

/**
 * Noise tunnel over a base attribution, shaped like `x`. Samples are evaluated in groups so at most
 * `batchSize` noisy inputs go to the base method at once; each sample's noise comes from its own seed,
 * so results do not depend on `batchSize`.
 * @example
 * const sg = await smoothGrad(model, x, { target: 1, samples: 50, noiseLevel: 0.15, seed: 7 });
 */
export async function smoothGrad(model: ModelLike, x: tf.Tensor, options: SmoothGradOptions = {}): Promise<tf.Tensor> {
  const kind = options.kind ?? 'smoothgrad';
  assertOneOf(kind, 'options.kind', NOISE_TUNNEL_KINDS);
  const samples = options.samples ?? 20;
  assertInteger(samples, 'options.samples', 1);
  const base = resolveBase(options.method);
  assertBatchedTensor(x, 'x');
  const batchSize = batchSizeOption(options.batchSize);
  await assertFinite(x, 'x');
  const seed = seedOption(options.seed);
  const selector = await resolveTarget(options.target, x.shape[0]);
  const n = x.shape[0];
  const sigma = noiseScale(x, options);
  const group = Math.max(1, Math.floor(batchSize / n));
  // Streaming mean and sum of squared deviations (Chan et al.'s parallel update): exact zero variance
  // for identical samples, unlike mean(A²) − mean(A)².
  let mean: tf.Tensor | null = null;
  let m2: tf.Tensor | null = null;
  let seen = 0;
  try {
    for (let first = 0; first < samples; first += group) {
      throwIfAborted(options.signal);
      const size = Math.min(group, samples - first);
      const noisy = tf.tidy(() =>
        tf.concat(Array.from({ length: size }, (_, s) => tf.add(x, tf.mul(sigma, seededNormal(x.shape, seed, first + s)))), 0),
      );
      let attributions: tf.Tensor;
      try {
        attributions = await base(model, noisy, {
          ...options.baseOptions,
          target: tileTarget(selector, options.target, size),
          batchSize,
          signal: options.signal,
        });
      } finally {
        noisy.dispose();
      }
      const [nextMean, nextM2] = tf.tidy(() => {
        const stacked = tf.reshape(attributions, [size, ...x.shape]);
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
      options.onProgress?.(seen, samples);
    }
    const [finalMean, finalM2] = [mean!, m2!];
    return tf.tidy(() => {
      const variance = tf.div(finalM2, seen);
      if (kind === 'smoothgrad') return tf.clone(finalMean);
      if (kind === 'vargrad') return variance;
      return tf.add(variance, tf.square(finalMean));
    });
  } finally {
    sigma.dispose();
    (mean as tf.Tensor | null)?.dispose();
    (m2 as tf.Tensor | null)?.dispose();
  }
}

function resolveBase(method: SmoothGradOptions['method']): BaseAttribution {
  if (method === undefined) return saliency;
  if (typeof method === 'function') return method;
  assertOneOf(method, 'options.method', Object.keys(BASE_METHODS) as (keyof typeof BASE_METHODS)[]);
  return BASE_METHODS[method];
}

/**
 * Per-example noise σ as a `[n, 1, ...]` tensor: `stdev`, or `noiseLevel · (max − min)` of each example.
 * Shared by the noise tunnel and SmoothTaylor.
 */
export function noiseScale(
  x: tf.Tensor,
  options: { stdev?: number; noiseLevel?: number },
  defaults: { noiseLevel?: number; stdev?: number } = { noiseLevel: 0.1 },
  names: { stdev: string; noiseLevel: string } = { stdev: 'options.stdev', noiseLevel: 'options.noiseLevel' },
): tf.Tensor {
  if (options.stdev !== undefined && options.noiseLevel !== undefined) {
    throw new GlassboxArgumentError(names.stdev, `give either ${names.stdev} (absolute) or ${names.noiseLevel} (relative), not both`);
  }
  const broadcastShape = [x.shape[0], ...new Array<number>(x.rank - 1).fill(1)];
  const stdev = options.stdev ?? (options.noiseLevel === undefined ? defaults.stdev : undefined);
  if (stdev !== undefined) {
    assertNumberInRange(stdev, names.stdev, { min: 0 });
    return tf.fill(broadcastShape, stdev);
  }
  const level = options.noiseLevel ?? defaults.noiseLevel!;
  assertNumberInRange(level, names.noiseLevel, { min: 0 });
  return tf.tidy(() => {
    const flat = tf.reshape(tf.cast(x, 'float32'), [x.shape[0], -1]);
    return tf.reshape(tf.mul(tf.sub(tf.max(flat, 1), tf.min(flat, 1)), level), broadcastShape);
  });
}
