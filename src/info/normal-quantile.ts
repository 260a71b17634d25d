/**
 * The normal scores `Φ⁻¹(r/(N + 1))` of the ranks r = 1..N, in tfjs ops.
 *
 * Φ⁻¹ is Wichura's algorithm AS 241 (PPND16, Applied Statistics 37, 1988; relative error about 1e-16
 * in exact arithmetic): a degree-7 rational function of `0.180625 − q²` in the centre
 * (`|q| = |p − ½| ≤ 0.425`) and of `√(−ln p) − 1.6` in the tails. All its coefficients are positive,
 * so evaluating it in float32 loses nothing to cancellation (Acklam's popular approximation, whose
 * centre polynomial cancels, is off by 1e-4 in float32 near p = 0.025). `q` is formed from the integer
 * rank, `(r − (N + 1)/2)/(N + 1)`, and the tail only ever sees `min(r, N + 1 − r)/(N + 1)`, so the
 * result is exact to float32 rounding everywhere (measured: below 4e-7 relative against a float64
 * bisection). AS 241's far-tail branch (p < e⁻²⁵ ≈ 1.4e-11) would need N > 7·10¹⁰ and is omitted.
 */
import * as tf from '@tensorflow/tfjs-core';

// Coefficients from the lowest power up.
const CENTRE_NUMERATOR = [
  3.387132872796366608, 133.14166789178437745, 1971.5909503065514427, 13731.693765509461125, 45921.953931549871457,
  67265.770927008700853, 33430.575583588128105, 2509.0809287301226727,
];
const CENTRE_DENOMINATOR = [
  1, 42.313330701600911252, 687.1870074920579083, 5394.1960214247511077, 21213.794301586595867, 39307.89580009271061,
  28729.085735721942674, 5226.495278852854561,
];
const TAIL_NUMERATOR = [
  1.42343711074968357734, 4.6303378461565452959, 5.7694972214606914055, 3.64784832476320460504, 1.27045825245236838258,
  0.24178072517745061177, 0.0227238449892691845833, 7.7454501427834140764e-4,
];
const TAIL_DENOMINATOR = [
  1, 2.05319162663775882187, 1.6763848301838038494, 0.68976733498510000455, 0.14810397642748007459,
  0.0151986665636164571966, 5.475938084995344946e-4, 1.05075007164441684324e-9,
];
/** The centre formula holds for |p − ½| ≤ 0.425. */
const CENTRE_HALF_WIDTH = 0.425;

/** Horner evaluation of `Σ_k c_k t^k` (coefficients from the lowest power up). */
function polynomial(coefficients: number[], t: tf.Tensor): tf.Tensor {
  return coefficients
    .slice(0, -1)
    .reduceRight((acc, c) => tf.add(tf.mul(acc, t), c), tf.fill(t.shape, coefficients[coefficients.length - 1]));
}

/**
 * The normal scores `Φ⁻¹(r/(N + 1))` of the ranks r = 1..N, a float32 `[N]` tensor (the copula
 * transform of N distinct values). Exactly antisymmetric: score(N + 1 − r) = −score(r).
 */
export function normalScores(n: number): tf.Tensor1D {
  return tf.tidy(() => {
    const ranks = tf.range(1, n + 1, 1, 'float32');
    const q = tf.div(tf.sub(ranks, (n + 1) / 2), n + 1);
    const r = tf.sub(CENTRE_HALF_WIDTH * CENTRE_HALF_WIDTH, tf.square(q));
    const centre = tf.div(tf.mul(q, polynomial(CENTRE_NUMERATOR, r)), polynomial(CENTRE_DENOMINATOR, r));
    // Tail of the lower half; the upper half mirrors it. Clamped so the unused branch stays finite.
    const lower = tf.div(tf.minimum(ranks, tf.sub(n + 1, ranks)), n + 1);
    const t = tf.sub(tf.sqrt(tf.neg(tf.log(tf.minimum(lower, 0.5 - CENTRE_HALF_WIDTH)))), 1.6);
    const tail = tf.mul(tf.sign(q), tf.div(polynomial(TAIL_NUMERATOR, t), polynomial(TAIL_DENOMINATOR, t)));
    return tf.where(tf.lessEqual(tf.abs(q), CENTRE_HALF_WIDTH), centre, tail) as tf.Tensor1D;
  });
}
