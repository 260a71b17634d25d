/**
 * The bias of the plug-in Gaussian entropy estimate (Ince et al. 2017, after Goria et al. 2005 /
 * Misra et al. 2005), in nats: with N samples of a d-dimensional Gaussian and the covariance
 * `C = XᵀX/(N − 1)` of demeaned X, `E[Σ log diag chol C] = h_true + B(N, d)` with
 *
 *   `B(N, d) = d·(ln 2 − ln(N − 1))/2 + Σ_{k=1..d} ψ((N − k)/2)/2`.
 *
 * Subtracting B from every entropy term gives the bias-corrected estimators of gcmi.
 */
import { digamma } from './digamma';

/** `B(N, d)` in nats; needs N > d. */
export function gaussianBias(samples: number, dims: number): number {
  if (!(samples > dims)) throw new RangeError(`gaussianBias: needs more samples (${samples}) than dimensions (${dims})`);
  let psi = 0;
  for (let k = 1; k <= dims; k++) psi += digamma((samples - k) / 2) / 2;
  return (dims * (Math.LN2 - Math.log(samples - 1))) / 2 + psi;
}
