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
import type { LrpBuilder } from '../../attribution/lrp/layer-catalogue';
import type { AddWeight } from './weight-factory';

/** Two affine couplings, one per half of the features. */
export class DoubleAffineCoupling {
  private readonly s: FullyConnectedNet[];
  private readonly t: FullyConnectedNet[];
  private readonly half: number;

  /** `dim` is the (even) feature width; S and T map dim/2 → dim/2 through `depth` hidden layers. */
  constructor(dim: number, hidden: number, depth: number, prefix: string, seed: number, addWeight: AddWeight) {
    const half = dim / 2;
    this.half = half;
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

  /**
   * LRP: `k' = k ⊙ exp(S(a)) + T(a)` as a gated product (the scale `exp(S(a))` is the gate: it gets no
   * relevance, `k` takes all, Arras et al. 2017) plus the translation `T(a)` (the sum splits by
   * contribution, so relevance reaches `a` through T), for both couplings.
   */
  addLrpSteps(builder: LrpBuilder, x: number, part: string): number {
    const half = (name: string, start: number): number =>
      builder.add({ inputs: [x], kind: 'structural', part: `${part}/${name}`, className: 'Slice', forward: ([v]) => tf.slice(v, [0, start], [-1, this.half]) });
    let apply = half('a', 0);
    let keep = half('k', this.half);
    for (let i = 0; i < 2; i++) {
      if (i === 1) [apply, keep] = [keep, apply];
      const scale = this.s[i].addLrpSteps(builder, apply, `${part}/s${i}`);
      const factor = builder.add({ inputs: [scale], kind: 'activation', part: `${part}/s${i}/exp`, className: 'Activation', activation: 'exp', forward: ([v]) => tf.exp(v) });
      const scaled = builder.add({ inputs: [keep, factor], kind: 'multiply', part: `${part}/scale${i}`, className: 'Multiply', gates: [false, true], forward: ([k, f]) => tf.mul(k, f) });
      const shift = this.t[i].addLrpSteps(builder, apply, `${part}/t${i}`);
      keep = builder.add({ inputs: [scaled, shift], kind: 'add', part: `${part}/shift${i}`, className: 'Add', forward: ([a, b]) => tf.add(a, b) });
    }
    return builder.add({ inputs: [apply, keep], kind: 'concatenate', part: `${part}/join`, className: 'Concatenate', forward: (vs) => tf.concat(vs, 1) });
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
