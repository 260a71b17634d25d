/**
 * Weighted Lasso by cyclic coordinate descent (Friedman, Hastie, Tibshirani 2010), in tfjs ops, for a
 * batch of independent problems at once, with scikit-learn's objective (which Captum's `SkLearnLasso`,
 * LIME's default surrogate, fits):
 * `minimise (1 / (2 Σ_s w_s)) Σ_s w_s (y_s − z_s · β − β₀)² + α ‖β‖₁`.
 * The intercept β₀ is not penalised: the columns and targets are centred by their weighted means, and
 * `β₀ = ȳ − z̄ · β` afterwards (scikit-learn's `fit_intercept=True`).
 *
 * Coordinate descent runs on the weighted Gram matrix `G = Z̃ᵀ diag(w / Σw) Z̃` of the centred design
 * (scikit-learn's `precompute=True` path, the same iterates): the update of coordinate j is
 * `β_j ← S(β_j + c_j / G_jj, α / G_jj)` with `c = q − Gβ`, `q = Z̃ᵀ diag(w / Σw) ỹ`, and S the soft
 * threshold `S(u, t) = u − clamp(u, −t, t)`; a constant column (G_jj = 0) keeps β_j = 0. The loop keeps
 * `u = β + c / diag(G)`, which coordinate j's own update leaves unchanged at j, so one update is seven
 * small ops on `[P, ·]` tensors. It stops, as
 * scikit-learn does, when the duality gap is below `tolerance · Σ w ỹ² / Σ w`, checked after sweeps 1, 2, 4
 * and then every 4.
 */
import * as tf from '@tensorflow/tfjs-core';
import { transposedMatMul } from '../../core/transposed-matmul';

/** Options of {@link lasso}. */
export interface LassoOptions {
  /** The L1 penalty α (Captum's LIME: 0.01). */
  alpha: number;
  /** Relative duality-gap tolerance (default 1e-4, scikit-learn's). */
  tolerance?: number;
  /** Most sweeps over the coordinates (default 1000, scikit-learn's `max_iter`). */
  maxSweeps?: number;
}

/** A fitted Lasso per problem. */
export interface LassoFit {
  /** `[P, M]` */
  coefficients: tf.Tensor2D;
  /** `[P]` */
  intercept: tf.Tensor1D;
}

/** Sweeps between two duality-gap checks (each reads one flag back), after early checks at sweeps 1 and 2. */
const CHECK_EVERY = 4;

/** Is the duality gap checked after `sweeps` sweeps? (1, 2, 4, 8, 12, …: well-posed problems stop early.) */
const checkAfter = (sweeps: number): boolean => sweeps === 1 || sweeps === 2 || (sweeps > 0 && sweeps % CHECK_EVERY === 0);

/**
 * Fits the Lasso problems: `design` `[P, S, M]`, `targets` `[P, S]`, positive `weights` `[P, S]`.
 * The caller disposes the fit; leak-free.
 */
export async function lasso(design: tf.Tensor3D, targets: tf.Tensor2D, weights: tf.Tensor2D, options: LassoOptions): Promise<LassoFit> {
  const [problems, rows, features] = design.shape;
  const { alpha } = options;
  const tolerance = options.tolerance ?? 1e-4;
  const maxSweeps = options.maxSweeps ?? 1000;
  const setup = tf.tidy(() => {
    const share = tf.div(weights, tf.sum(weights, 1, true));
    const meanZ = tf.reshape(tf.matMul(tf.reshape(share, [problems, 1, rows]), design), [problems, features]);
    const meanY = tf.sum(tf.mul(share, targets), 1);
    const centredZ = tf.sub(design, tf.reshape(meanZ, [problems, 1, features]));
    const centredY = tf.sub(targets, tf.reshape(meanY, [problems, 1]));
    const gram = transposedMatMul(tf.mul(centredZ, tf.reshape(share, [problems, rows, 1])), centredZ);
    const q = tf.reshape(transposedMatMul(centredZ, tf.reshape(tf.mul(share, centredY), [problems, rows, 1])), [problems, features]);
    const yy = tf.sum(tf.mul(share, tf.square(centredY)), 1);
    const diagonal = tf.sum(tf.mul(gram, tf.eye(features)), 2);
    const inverse = tf.divNoNan(tf.onesLike(diagonal), diagonal);
    const threshold = tf.mul(inverse, alpha);
    return {
      meanZ,
      meanY,
      q,
      yy,
      diagonal,
      // Column j of G with row i divided by G_ii and the diagonal dropped: how u_i moves when β_j does.
      columns: tf.unstack(tf.mul(tf.mul(gram, tf.reshape(inverse, [problems, features, 1])), tf.sub(1, tf.eye(features))), 2),
      upper: tf.split(threshold, features, 1),
      lower: tf.split(tf.neg(threshold), features, 1),
      start: tf.mul(q, inverse),
    };
  });
  // u = β + c / diag(G) with c = q − Gβ, and β as one [P, 1] column per coordinate.
  let state: { u: tf.Tensor; beta: tf.Tensor[] } = { u: tf.clone(setup.start), beta: setup.upper.map((t) => tf.zerosLike(t)) };
  try {
    for (let sweep = 0; sweep < maxSweeps; sweep++) {
      if (checkAfter(sweep) && (await converged(state, setup, alpha, tolerance))) break;
      const previous = state;
      state = tf.tidy(() => {
        let u = previous.u;
        const beta = previous.beta.slice();
        for (let j = 0; j < features; j++) {
          const target = tf.slice(u, [0, j], [problems, 1]);
          const next = tf.sub(target, tf.minimum(tf.maximum(target, setup.lower[j]), setup.upper[j]));
          u = tf.sub(u, tf.mul(setup.columns[j], tf.sub(next, beta[j])));
          beta[j] = next;
        }
        return { u, beta };
      });
      tf.dispose(previous);
    }
    return tf.tidy(() => {
      const coefficients = tf.concat(state.beta, 1) as tf.Tensor2D;
      const intercept = tf.sub(setup.meanY, tf.sum(tf.mul(setup.meanZ, coefficients), 1)) as tf.Tensor1D;
      return { coefficients, intercept };
    });
  } finally {
    tf.dispose(state);
    tf.dispose(setup);
  }
}

/**
 * scikit-learn's stopping rule: the duality gap of every problem is at most `tolerance · yy`. With
 * `r` the weighted residual, `‖r‖² = yy − qᵀβ − cᵀβ` and `rᵀy = yy − qᵀβ`; the dual point is r scaled
 * by `min(1, α / ‖c‖_∞)`.
 */
async function converged(
  state: { u: tf.Tensor; beta: tf.Tensor[] },
  setup: { q: tf.Tensor; yy: tf.Tensor; diagonal: tf.Tensor },
  alpha: number,
  tolerance: number,
): Promise<boolean> {
  const flag = tf.tidy(() => {
    const beta = tf.concat(state.beta, 1);
    // c = (u − β) · diag(G); a constant column has a zero row in G, so its c_j = 0 either way.
    const c = tf.mul(tf.sub(state.u, beta), setup.diagonal);
    const qb = tf.sum(tf.mul(setup.q, beta), 1);
    const residual2 = tf.sub(tf.sub(setup.yy, qb), tf.sum(tf.mul(c, beta), 1));
    const residualY = tf.sub(setup.yy, qb);
    const dualNorm = tf.max(tf.abs(c), 1);
    const outside = tf.greater(dualNorm, alpha);
    const scale = tf.where(outside, tf.divNoNan(tf.scalar(alpha), dualNorm), tf.onesLike(dualNorm));
    const base = tf.where(outside, tf.mul(0.5, tf.add(residual2, tf.mul(residual2, tf.square(scale)))), residual2);
    const gap = tf.sub(tf.add(base, tf.mul(alpha, tf.sum(tf.abs(beta), 1))), tf.mul(scale, residualY));
    return tf.all(tf.lessEqual(gap, tf.mul(tolerance, setup.yy)));
  });
  try {
    return (await flag.data())[0] !== 0;
  } finally {
    flag.dispose();
  }
}
