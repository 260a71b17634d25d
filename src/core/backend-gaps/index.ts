/**
 * Closes tfjs 4.22's gaps in gradient kernels for the duration of an attribution; see
 * {@link withBackendGapFixes}.
 * @module
 */
export { withBackendGapFixes, withBackendGapFixesSync } from './scope';
export type { BackendGapOptions } from './scope';
