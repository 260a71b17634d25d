/**
 * Activation normalisation (Kingma & Dhariwal 2018, Glow), as used by Esser, Rombach & Ommer (2020):
 * `h = s ⊙ (x + μ)`, log-determinant `Σ_d log|s_d|` per example. Data-dependent initialisation: on
 * the first batch it sees, `μ = −mean(x)` and `s = 1/(std(x) + 1e−6)` per dimension, so that batch
 * comes out with mean 0 and standard deviation 1 (population std; the reference code uses PyTorch's
 * unbiased std, a factor √(N/(N−1)) apart). Whether that happened is itself a (non-trainable) weight,
 * so a saved and loaded layer keeps its values instead of initialising again.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { LrpBuilder } from '../../attribution/lrp/layer-catalogue';
import { GlassboxArgumentError } from '../../core/errors';
import type { AddWeight } from './weight-factory';

/** Added to the standard deviation before inverting it (the reference code's value). */
export const ACT_NORM_EPSILON = 1e-6;

/** Per-dimension affine normalisation with data-dependent initialisation. */
export class ActNorm {
  private readonly loc: tfl.LayerVariable;
  private readonly scale: tfl.LayerVariable;
  /** 1 once the data-dependent initialisation has run (stored with the weights), else 0. */
  private readonly initialized: tfl.LayerVariable;

  constructor(dim: number, prefix: string, addWeight: AddWeight) {
    this.loc = addWeight(`${prefix}/loc`, [dim], tfl.initializers.zeros(), true);
    this.scale = addWeight(`${prefix}/scale`, [dim], tfl.initializers.ones(), true);
    this.initialized = addWeight(`${prefix}/initialized`, [], tfl.initializers.zeros(), false);
  }

  /**
   * Sets μ and s from the batch `x` [N, D] unless the stored flag says this already happened; then sets
   * the flag. Runs entirely as tensor operations (no read-back), so it also works inside `fit`.
   */
  initializeFrom(x: tf.Tensor2D): void {
    if (x.shape[0] < 2) {
      throw new GlassboxArgumentError(
        'x',
        `ActNorm initialises from the first batch's mean and standard deviation and needs at least 2 examples, got ${x.shape[0]}; ` +
          'pass a representative batch first (e.g. layer.forwardWithLogDet(trainingBatch))',
      );
    }
    tf.tidy(() => {
      const { mean, variance } = tf.moments(x, 0);
      const done = tf.greater(tf.broadcastTo(this.initialized.read(), [x.shape[1]]), 0.5);
      const std = tf.sqrt(variance);
      this.loc.write(tf.where(done, this.loc.read(), tf.neg(mean)));
      this.scale.write(tf.where(done, this.scale.read(), tf.div(1, tf.add(std, ACT_NORM_EPSILON))));
      this.initialized.write(tf.onesLike(this.initialized.read()));
    });
  }

  /** `s ⊙ (x + μ)` and the per-example log-determinant `Σ log|s|` (shape [N]). */
  forward(x: tf.Tensor2D): { y: tf.Tensor2D; logDet: tf.Tensor1D } {
    const scale = this.scale.read();
    const y = tf.mul(scale, tf.add(x, this.loc.read())) as tf.Tensor2D;
    const logDet = tf.broadcastTo(tf.sum(tf.log(tf.abs(scale))), [x.shape[0]]) as tf.Tensor1D;
    return { y, logDet };
  }

  /** LRP: an element-wise affine step `y = s ⊙ x + s ⊙ μ` (Pass in every composite). */
  addLrpSteps(builder: LrpBuilder, x: number, part: string): number {
    const scale = this.scale.read();
    const loc = this.loc.read();
    const shift = builder.own(tf.mul(scale, loc));
    return builder.add({ inputs: [x], kind: 'affine', part, className: 'ActNorm', affine: { scale, shift }, forward: ([v]) => tf.mul(scale, tf.add(v, loc)) });
  }

  /** `y / s − μ`. */
  inverse(y: tf.Tensor2D): tf.Tensor2D {
    return tf.sub(tf.div(y, this.scale.read()), this.loc.read()) as tf.Tensor2D;
  }
}
