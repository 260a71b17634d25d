/**
 * The double affine coupling of Esser, Rombach & Ommer (2020), `DoubleVectorCouplingBlock`: split
 * `x = [a, k]` into halves and set `k' = k ⊙ exp(S₀(a)) + T₀(a)`; then swap the halves and couple the
 * other one the same way with S₁, T₁, so the output is `[k', a']` with
 * `a' = a ⊙ exp(S₁(k')) + T₁(k')`. The Jacobian is triangular, so
 * `log|det J| = Σ S₀(a) + Σ S₁(k')`. S ends in tanh, which bounds every scale factor to [e⁻¹, e].
 */
import * as tf from '@tensorflow/tfjs-core';
import { deriveSeed } from '../../core/seeded-random';
import { FullyConnectedNet } from './mlp';
import type { AddWeight } from './weight-factory';

/** Two affine couplings, one per half of the features. */
export class DoubleAffineCoupling {
  private readonly s: FullyConnectedNet[];
  private readonly t: FullyConnectedNet[];

  /** `dim` is the (even) feature width; S and T map dim/2 → dim/2 through `depth` hidden layers. */
  constructor(dim: number, hidden: number, depth: number, prefix: string, seed: number, addWeight: AddWeight) {
    const half = dim / 2;
    const net = (i: number, kind: 's' | 't') =>
      new FullyConnectedNet(half, hidden, depth, kind === 's', `${prefix}/${kind}${i}`, deriveSeed(seed, i, kind === 's' ? 0 : 1), addWeight);
    this.s = [net(0, 's'), net(1, 's')];
    this.t = [net(0, 't'), net(1, 't')];
  }

  /** `[a, k] → [k', a']` and the per-example log-determinant (shape [N]). */
  forward(x: tf.Tensor2D): { y: tf.Tensor2D; logDet: tf.Tensor1D } {
    let [apply, keep] = tf.split(x, 2, 1) as [tf.Tensor2D, tf.Tensor2D];
    let logDet = tf.zeros([x.shape[0]]) as tf.Tensor1D;
    for (let i = 0; i < 2; i++) {
      if (i === 1) [apply, keep] = [keep, apply]; // after the first coupling: apply = k', keep = a
      const scale = this.s[i].apply(apply);
      keep = tf.add(tf.mul(keep, tf.exp(scale)), this.t[i].apply(apply));
      logDet = tf.add(logDet, tf.sum(scale, 1));
    }
    return { y: tf.concat([apply, keep], 1), logDet };
  }

  /** Inverts `forward`: `[k', a'] → [a, k]`. */
  inverse(y: tf.Tensor2D): tf.Tensor2D {
    let [apply, keep] = tf.split(y, 2, 1) as [tf.Tensor2D, tf.Tensor2D];
    for (let i = 1; i >= 0; i--) {
      keep = tf.mul(tf.sub(keep, this.t[i].apply(apply)), tf.exp(tf.neg(this.s[i].apply(apply))));
      if (i === 1) [apply, keep] = [keep, apply];
    }
    return tf.concat([apply, keep], 1);
  }
}
