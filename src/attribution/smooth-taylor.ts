/**
 * SmoothTaylor (Goh, Lapuschkin, Weber, Samek, Binder 2020): a Taylor decomposition averaged over
 * noisy roots, bridging Integrated Gradients and SmoothGrad:
 * `A(x) = (1/N) Σ_i (x − z_i) ⊙ ∇f_c(z_i)`, `z_i = x + σ ε_i`, `ε_i ~ N(0, I)`.
 * Defaults from the authors' code: N = 150 roots, σ = 0.5 (absolute); `noiseLevel` gives σ relative to
 * each example's range instead.
 */
import * as tf from '@tensorflow/tfjs-core';
import { accumulateOverPoints } from '../core/accumulate';
import type { ModelLike } from '../core/model';
import type { CommonOptions } from '../core/options';
import { perRow, prepareCall } from '../core/prepare';
import { seedOption, seededNormal } from '../core/seeded-random';
import { assertInteger } from '../core/validate';
import { noiseScale } from './noise-tunnel';

/** Options of {@link smoothTaylor}. */
export interface SmoothTaylorOptions extends CommonOptions {
  /** Number of noisy roots N (default 150). */
  roots?: number;
  /** Absolute noise scale σ (default 0.5). Give this or `noiseLevel`. */
  noiseScale?: number;
  /** Noise relative to each example's range: σ = noiseLevel · (max − min). */
  noiseLevel?: number;
  /** Seed of the roots. */
  seed?: number;
}

/**
 * SmoothTaylor attribution of the target score, shaped like `x`. At most `batchSize` roots go through
 * the model at once; each root's noise has its own seed, so results do not depend on `batchSize`.
 */
export async function smoothTaylor(model: ModelLike, x: tf.Tensor, options: SmoothTaylorOptions = {}): Promise<tf.Tensor> {
  const roots = options.roots ?? 150;
  assertInteger(roots, 'options.roots', 1);
  const seed = seedOption(options.seed);
  const call = await prepareCall(model, x, options);
  let sigma: tf.Tensor | undefined;
  const featureRank = call.featureShape.length;
  try {
    sigma = noiseScale(
      call.input,
      { stdev: options.noiseScale, noiseLevel: options.noiseLevel },
      { stdev: 0.5 },
      { stdev: 'options.noiseScale', noiseLevel: 'options.noiseLevel' },
    );
    const sigmas = await sigma.data();
    /** `σ_e ε_{e,i}` for the rows starting at `start`, each from its own seed (example, root index). */
    const scaledNoise = (start: number, examples: Int32Array): tf.Tensor => {
      const noise = tf.stack(Array.from(examples, (e, i) => seededNormal(call.featureShape, seed, e, (start + i) % roots)));
      return tf.mul(noise, perRow(Float32Array.from(examples, (e) => sigmas[e]), featureRank));
    };
    const [sum] = await accumulateOverPoints({
      ...call.plan,
      forward: call.forward,
      target: call.target,
      numExamples: call.numExamples,
      total: call.numExamples * roots,
      needs: 'gradients',
      // Row r is root z = x + σ ε of example ⌊r/N⌋, root index r mod N; the term (x − z) ⊙ ∇f_c(z)
      // regenerates the same seeded σ ε instead of keeping it.
      points: (start, count) => {
        const examples = Int32Array.from({ length: count }, (_, i) => Math.floor((start + i) / roots));
        const inputs = tf.add(tf.gather(call.input, tf.tensor1d(examples, 'int32')), scaledNoise(start, examples));
        return { inputs, examples };
      },
      terms: (rows, evaluation) => [tf.neg(tf.mul(evaluation.gradients!, scaledNoise(rows.start, rows.examples)))],
    });
    const attribution = tf.div(sum, roots);
    sum.dispose();
    return attribution;
  } finally {
    sigma?.dispose();
    call.dispose();
  }
}
