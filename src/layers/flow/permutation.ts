/**
 * The fixed channel shuffle between flow units (Esser, Rombach & Ommer 2020, `Shuffle`): a random
 * permutation drawn once, stored in the layer config, applied as `y = x[:, π]`, inverted with π⁻¹.
 * Its Jacobian is a permutation matrix, so it adds nothing to the log-determinant.
 */
import * as tf from '@tensorflow/tfjs-core';
import { GlassboxArgumentError } from '../../core/errors';
import { mulberry32 } from '../../core/seeded-random';
import type { LrpBuilder } from '../../attribution/lrp/layer-catalogue';

/** A uniformly random permutation of 0..n−1 from a 32-bit seed (Fisher–Yates over mulberry32). */
export function randomPermutation(n: number, seed: number): number[] {
  const perm = Array.from({ length: n }, (_, i) => i);
  const next = mulberry32(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [perm[i], perm[j]] = [perm[j], perm[i]];
  }
  return perm;
}

/** Throws unless `perm` is a permutation of 0..n−1. */
export function assertPermutation(perm: unknown, n: number, argument: string): asserts perm is number[] {
  const ok =
    Array.isArray(perm) &&
    perm.length === n &&
    perm.every((v) => Number.isInteger(v) && v >= 0 && v < n) &&
    new Set(perm).size === n;
  if (!ok) throw new GlassboxArgumentError(argument, `expected a permutation of 0..${n - 1}, got ${JSON.stringify(perm)}`);
}

/**
 * Gathers the feature axis of [N, D] tensors by a fixed permutation and by its inverse. The gradient
 * of a permutation is the inverse permutation; it is given explicitly because tfjs's generic gather
 * gradient needs UnsortedSegmentSum, which the wasm backend lacks.
 */
export class FixedPermutation {
  private readonly inversePerm: number[];

  constructor(readonly perm: readonly number[]) {
    this.inversePerm = new Array<number>(perm.length);
    perm.forEach((p, i) => (this.inversePerm[p] = i));
  }

  /** `x[:, π]`. */
  forward(x: tf.Tensor2D): tf.Tensor2D {
    return permuteColumns(x, this.perm, this.inversePerm);
  }

  /** LRP: relevance is routed like the gradient (the inverse permutation). */
  addLrpSteps(builder: LrpBuilder, x: number, part: string): number {
    return builder.add({ inputs: [x], kind: 'structural', part, className: 'Permutation', forward: ([v]) => this.forward(v as tf.Tensor2D) });
  }

  /** `y[:, π⁻¹]`. */
  inverse(y: tf.Tensor2D): tf.Tensor2D {
    return permuteColumns(y, this.inversePerm, this.perm);
  }
}

/** `x[:, order]` whose gradient is `dy[:, inverseOrder]`. */
function permuteColumns(x: tf.Tensor2D, order: readonly number[], inverseOrder: readonly number[]): tf.Tensor2D {
  const permute = tf.customGrad((...inputs: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: tf.gather(inputs[0] as tf.Tensor, tf.tensor1d(order as number[], 'int32'), 1),
    gradFunc: (dy: tf.Tensor) => tf.gather(dy, tf.tensor1d(inverseOrder as number[], 'int32'), 1),
  }));
  return permute(x) as tf.Tensor2D;
}
