/**
 * Quadrature rules for the path integral of Integrated Gradients, `∫₀¹ g(α) dα ≈ Σ_k w_k g(α_k)`.
 *
 * | method | α_k (k = 0..n−1) | w_k |
 * |---|---|---|
 * | riemann_left | k/n | 1/n |
 * | riemann_right | (k+1)/n | 1/n |
 * | riemann_middle | (k+½)/n | 1/n |
 * | riemann_trapezoid | k/(n−1) | 1/(n−1), halved at both ends |
 * | gausslegendre | (1+ξ_k)/2 | ω_k/2 (ξ, ω: Gauss–Legendre nodes and weights on [−1, 1]) |
 *
 * Unlike Captum, the trapezoid weights sum to 1 (Captum uses 1/n halved at the ends, which sum to
 * (n−1)/n and break IG's completeness).
 */
import { GlassboxArgumentError } from '../core/errors';
import { assertInteger, assertOneOf } from '../core/validate';

/** The quadrature rules {@link integratedGradients} offers. */
export const QUADRATURE_METHODS = ['riemann_left', 'riemann_right', 'riemann_middle', 'riemann_trapezoid', 'gausslegendre'] as const;
/** A quadrature rule name. */
export type QuadratureMethod = (typeof QUADRATURE_METHODS)[number];

/** Points `alphas` in [0, 1] and weights summing to 1. */
export interface Quadrature {
  /** The points `α_k` on [0, 1]. */
  alphas: Float64Array;
  /** The weights `w_k` (they sum to 1). */
  weights: Float64Array;
}

/** The `steps`-point rule `method` on [0, 1]. */
export function quadrature(method: QuadratureMethod, steps: number): Quadrature {
  assertOneOf(method, 'options.method', QUADRATURE_METHODS);
  assertInteger(steps, 'options.steps', 1);
  const alphas = new Float64Array(steps);
  const weights = new Float64Array(steps);
  switch (method) {
    case 'riemann_left':
    case 'riemann_right':
    case 'riemann_middle': {
      const shift = method === 'riemann_left' ? 0 : method === 'riemann_right' ? 1 : 0.5;
      for (let k = 0; k < steps; k++) {
        alphas[k] = (k + shift) / steps;
        weights[k] = 1 / steps;
      }
      break;
    }
    case 'riemann_trapezoid': {
      if (steps < 2) throw new GlassboxArgumentError('options.steps', `riemann_trapezoid needs at least 2 steps, got ${steps}`);
      for (let k = 0; k < steps; k++) {
        alphas[k] = k / (steps - 1);
        weights[k] = (k === 0 || k === steps - 1 ? 0.5 : 1) / (steps - 1);
      }
      break;
    }
    case 'gausslegendre': {
      const { nodes, weights: w } = gaussLegendre(steps);
      for (let k = 0; k < steps; k++) {
        alphas[k] = (1 + nodes[k]) / 2;
        weights[k] = w[k] / 2;
      }
      break;
    }
  }
  return { alphas, weights };
}

/**
 * Gauss–Legendre nodes (ascending) and weights on [−1, 1]: the roots of the Legendre polynomial P_n
 * by Newton's method from Tricomi's initial guesses, `ω = 2 / ((1 − ξ²) P_n'(ξ)²)`.
 */
export function gaussLegendre(n: number): {
  /** The nodes `ξ_k`, ascending, in (−1, 1). */
  nodes: Float64Array;
  /** The weights `ω_k` (they sum to 2). */
  weights: Float64Array;
} {
  const nodes = new Float64Array(n);
  const weights = new Float64Array(n);
  for (let i = 0; i < Math.ceil(n / 2); i++) {
    let z = Math.cos((Math.PI * (i + 0.75)) / (n + 0.5));
    let derivative = 0;
    for (let iteration = 0; iteration < 100; iteration++) {
      // Three-term recurrence: (k+1) P_{k+1} = (2k+1) z P_k − k P_{k−1}.
      let p0 = 1;
      let p1 = z;
      for (let k = 1; k < n; k++) {
        const p2 = ((2 * k + 1) * z * p1 - k * p0) / (k + 1);
        p0 = p1;
        p1 = p2;
      }
      const pn = n === 1 ? z : p1;
      const pPrev = n === 1 ? 1 : p0;
      derivative = (n * (z * pn - pPrev)) / (z * z - 1);
      const step = pn / derivative;
      z -= step;
      if (Math.abs(step) < 1e-15) break;
    }
    const w = 2 / ((1 - z * z) * derivative * derivative);
    nodes[i] = -z;
    nodes[n - 1 - i] = z;
    weights[i] = w;
    weights[n - 1 - i] = w;
  }
  return { nodes, weights };
}
