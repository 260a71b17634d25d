/**
 * Weighted least squares for surrogate models (KernelSHAP), in tfjs ops, for a batch of independent
 * problems at once: for each problem p,
 * `minimise Σ_s w_s (y_s − z_s · φ)²` over `φ ∈ ℝ^M`, optionally subject to `Σ_j φ_j = total`
 * (KernelSHAP's efficiency constraint) and to `φ_j = 0` for the columns marked inactive (padding).
 *
 * The constraint is built in by writing `φ = (total / M)·1 + ψ` with `Σ ψ = 0`, and the problem in ψ is
 * solved by CGLS (conjugate gradients on the normal equations, Hestenes & Stiefel 1952, in the
 * numerically preferable least-squares form that never forms `ZᵀWZ`) on the constrained subspace. Started
 * from ψ = 0, CGLS converges to the minimum-norm solution, so an underdetermined problem (fewer distinct
 * coalitions than features) has a well-defined answer: the least-squares solution of least norm (Captum's
 * scikit-learn `LinearRegression` also returns a minimum-norm solution, of its own centred problem).
 */
import * as tf from '@tensorflow/tfjs-core';
import { transposedMatMul } from '../../core/transposed-matmul';

/** Options of {@link weightedLeastSquares}. */
export interface WeightedLeastSquaresOptions {
  /** `[P]`: the sum of the active coefficients of each problem (the efficiency constraint). */
  total?: tf.Tensor1D;
  /** `[P, M]`: 1 for the columns that are features, 0 for padding (their coefficients are 0). Default: all 1. */
  active?: tf.Tensor2D;
  /** Stop when the normal-equation residual `‖Pᵀ Zᵀ W r‖` fell by this factor for every problem (default 1e-5). */
  tolerance?: number;
  /** Most CGLS iterations (default `2M + 10`; exact arithmetic needs at most M). */
  maxIterations?: number;
}

/** Iterations between two convergence checks (each check reads one flag back). */
const CHECK_EVERY = 8;

/**
 * Solves the weighted least-squares problems: `design` `[P, S, M]` (rows z_s), `targets` `[P, S]`,
 * non-negative `weights` `[P, S]`. Returns the coefficients `[P, M]` (caller disposes); leak-free.
 */
export async function weightedLeastSquares(
  design: tf.Tensor3D,
  targets: tf.Tensor2D,
  weights: tf.Tensor2D,
  options: WeightedLeastSquaresOptions = {},
): Promise<tf.Tensor2D> {
  const [problems, rows, features] = design.shape;
  const tolerance = options.tolerance ?? 1e-5;
  const maxIterations = options.maxIterations ?? 2 * features + 10;
  const setup = tf.tidy(() => {
    const active = options.active ?? tf.ones([problems, features]);
    const count = tf.sum(active, 1, true);
    const start = options.total === undefined ? tf.zerosLike(active) : tf.mul(active, tf.divNoNan(tf.reshape(options.total, [problems, 1]), count));
    return { active, count, start, root: tf.sqrt(weights) };
  });
  const { active, count, start, root } = setup;
  if (rows === 0) {
    // No rows: only the constraint speaks (φ = total / M on the active columns).
    tf.dispose([count, root]);
    if (options.active === undefined) active.dispose();
    return start as tf.Tensor2D;
  }
  // P: onto the active columns, and with a total also onto Σ = 0.
  const project = (v: tf.Tensor): tf.Tensor =>
    options.total === undefined ? tf.mul(active, v) : tf.mul(active, tf.sub(v, tf.divNoNan(tf.sum(tf.mul(active, v), 1, true), count)));
  const apply = (v: tf.Tensor): tf.Tensor => tf.mul(root, tf.reshape(tf.matMul(design, tf.reshape(v, [problems, features, 1])), [problems, rows]));
  const applyTransposed = (r: tf.Tensor): tf.Tensor =>
    project(tf.reshape(transposedMatMul(design, tf.reshape(tf.mul(root, r), [problems, rows, 1])), [problems, features]));
  const squaredNorm = (v: tf.Tensor): tf.Tensor => tf.sum(tf.square(v), 1);

  let state = tf.tidy(() => {
    const residual = tf.mul(root, tf.sub(targets, tf.reshape(tf.matMul(design, tf.reshape(start, [problems, features, 1])), [problems, rows])));
    const gradient = applyTransposed(residual);
    const gamma = squaredNorm(gradient);
    return { solution: tf.zerosLike(start), residual, direction: gradient, gamma, threshold: tf.mul(gamma, tolerance * tolerance) };
  });
  try {
    for (let iteration = 0; iteration < maxIterations; iteration++) {
      if (iteration % CHECK_EVERY === 0 && !(await anyRunning(state.gamma, state.threshold))) break;
      const previous = state;
      state = tf.tidy(() => {
        const { solution, residual, direction, gamma, threshold } = previous;
        const running = tf.cast(tf.greater(gamma, threshold), 'float32');
        const image = apply(direction);
        const step = tf.reshape(tf.mul(tf.divNoNan(gamma, squaredNorm(image)), running), [problems, 1]);
        const nextResidual = tf.sub(residual, tf.mul(step, image));
        const gradient = applyTransposed(nextResidual);
        const nextGamma = squaredNorm(gradient);
        const beta = tf.reshape(tf.mul(tf.divNoNan(nextGamma, gamma), running), [problems, 1]);
        return {
          solution: tf.add(solution, tf.mul(step, direction)),
          residual: nextResidual,
          direction: tf.add(gradient, tf.mul(beta, direction)),
          // A converged problem keeps its γ, so it stays below its threshold.
          gamma: tf.where(tf.greater(running, 0), nextGamma, gamma),
          threshold: tf.clone(threshold),
        };
      });
      tf.dispose(previous);
    }
    return tf.tidy(() => tf.add(start, state.solution) as tf.Tensor2D);
  } finally {
    tf.dispose(state);
    tf.dispose([count, start, root]);
    if (options.active === undefined) active.dispose();
  }
}

/** Is any problem's γ still above its threshold? (one read-back) */
async function anyRunning(gamma: tf.Tensor, threshold: tf.Tensor): Promise<boolean> {
  const flag = tf.tidy(() => tf.any(tf.greater(gamma, threshold)));
  try {
    return (await flag.data())[0] !== 0;
  } finally {
    flag.dispose();
  }
}
