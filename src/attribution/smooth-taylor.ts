/**
 * SmoothTaylor (Goh, Lapuschkin, Weber, Samek, Binder 2020): a Taylor decomposition averaged over
 * noisy roots, bridging Integrated Gradients and SmoothGrad:
 * `A(x) = (1/N) Σ_i (x − z_i) ⊙ ∇f_c(z_i)`, `z_i = x + σ ε_i`, `ε_i ~ N(0, I)`.
 * Defaults from the authors' code: N = 150 roots (`samples`), σ = 0.5 (absolute, `stdev`); `noiseLevel`
 * gives σ relative to each example's range instead.
 */
import * as tf from '@tensorflow/tfjs-core';
import { accumulateOverPoints } from '../core/accumulate';
import { renamedOption } from '../core/deprecation';
import type { ModelLike } from '../core/model';
import { optionKeys } from '../core/option-keys';
import { COMMON_OPTION_KEYS, type CommonOptions } from '../core/options';
import { perRow, prepareCall } from '../core/prepare';
import { seededNormal } from '../core/seeded-random';
import { assertInteger } from '../core/validate';
import { noiseScales } from './noise-scale';

/** Options of {@link smoothTaylor}. */
export interface SmoothTaylorOptions extends CommonOptions {
  /** Number of noisy roots N (default 150). */
  samples?: number;
  /** Absolute noise standard deviation σ (default 0.5). Give this or `noiseLevel`. */
  stdev?: number;
  /** Noise relative to each example's range: σ = noiseLevel · (max − min). */
  noiseLevel?: number;
  /** Seed of the roots. */
  seed?: number;
  /** @deprecated Renamed `samples` (one name for sample counts across methods); removed in the next release. */
  roots?: number;
  /** @deprecated Renamed `stdev` (one name for the noise σ across methods); removed in the next release. */
  noiseScale?: number;
}

const SMOOTH_TAYLOR_KEYS = optionKeys<SmoothTaylorOptions>()('samples', 'stdev', 'noiseLevel', 'seed', 'roots', 'noiseScale', ...COMMON_OPTION_KEYS);

/**
 * SmoothTaylor attribution of the target score, shaped like `x` (one tensor per input when `x` is an
 * array). Each root's noise has its own seed, so results do not depend on the chunking.
 */
export async function smoothTaylor(model: ModelLike, x: tf.Tensor, options?: SmoothTaylorOptions): Promise<tf.Tensor>;
export async function smoothTaylor(model: ModelLike, x: tf.Tensor[], options?: SmoothTaylorOptions): Promise<tf.Tensor[]>;
export async function smoothTaylor(model: ModelLike, x: tf.Tensor | tf.Tensor[], options: SmoothTaylorOptions = {}): Promise<tf.Tensor | tf.Tensor[]> {
  const call = await prepareCall(model, x, options, { keys: SMOOTH_TAYLOR_KEYS, gradients: true });
  let sigmas: tf.Tensor[] = [];
  try {
    const roots = renamedOption<number>(options, 'samples', 'roots') ?? 150;
    assertInteger(roots, 'options.samples', 1);
    const stdev = renamedOption<number>(options, 'stdev', 'noiseScale');
    sigmas = noiseScales(call.inputs.tensors, { stdev, noiseLevel: options.noiseLevel }, { stdev: 0.5 });
    const scales = await Promise.all(sigmas.map((s) => s.data()));
    const inputs = call.inputs.tensors;
    /** `σ_e ε_{e,i}` of input k for the rows starting at `start`, each from its own seed (example, root, input). */
    const scaledNoise = (k: number, start: number, examples: Int32Array): tf.Tensor => {
      const shape = call.inputs.featureShapes[k];
      const noise = tf.stack(
        Array.from(examples, (e, i) => {
          const root = (start + i) % roots;
          return k === 0 ? seededNormal(shape, call.seed, e, root) : seededNormal(shape, call.seed, e, root, k);
        }),
      );
      return tf.mul(noise, perRow(Float32Array.from(examples, (e) => scales[k][e]), shape.length));
    };
    const sums = await accumulateOverPoints({
      ...call.plan,
      evaluator: call.evaluator,
      numExamples: call.numExamples,
      total: call.numExamples * roots,
      needs: 'gradients',
      // Row r is root z = x + σ ε of example ⌊r/N⌋, root index r mod N; the term (x − z) ⊙ ∇f_c(z)
      // regenerates the same seeded σ ε instead of keeping it.
      points: (start, count) => {
        const examples = Int32Array.from({ length: count }, (_, i) => Math.floor((start + i) / roots));
        const indices = tf.tensor1d(examples, 'int32');
        return { inputs: inputs.map((input, k) => tf.add(tf.gather(input, indices), scaledNoise(k, start, examples))), examples };
      },
      terms: (rows, evaluation) =>
        evaluation.gradients!.map((g, k) => tf.neg(tf.mul(g, scaledNoise(k, rows.start, rows.examples)))),
    });
    return call.result(
      tf.tidy(() => {
        const means = sums.map((sum) => tf.div(sum, roots));
        sums.forEach((sum) => sum.dispose());
        return means;
      }),
    );
  } finally {
    sigmas.forEach((s) => s.dispose());
    call.dispose();
  }
}
