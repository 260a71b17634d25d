/**
 * How the copula estimators behave inside a larger analysis versus when a user calls them: the public
 * functions warn about ties and reject a singular covariance (unbounded information, as gcmi does);
 * {@link layerInformation} reports ties in its tables and saturates deterministic relations at the
 * float32 limit (10 bits per dimension), like the per-unit estimator.
 */
export interface EstimatorMode {
  warnTies: boolean;
  saturate: boolean;
}

/** The public functions' behaviour. */
export const STRICT: EstimatorMode = { warnTies: true, saturate: false };

/** The behaviour inside an analysis. */
export const SATURATING: EstimatorMode = { warnTies: false, saturate: true };
