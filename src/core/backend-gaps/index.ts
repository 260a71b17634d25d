/**
 * Closes tfjs 4.22's gaps in gradient kernels and gradients for the duration of one gradient
 * computation, with room for the caller's own gradient rules; see {@link withBackendGapFixesSync}.
 * @module
 */
export { withBackendGapFixes, withBackendGapFixesSync } from './scope';
export type { BackendGapOptions, SyncBackendGapOptions } from './scope';
export type { GradientOverride, GradientDefinition } from './gradient-overrides';
export { guidedOverrides, deconvolutionOverrides, type GuidedOverrideOptions } from './guided-overrides';
export { KernelCache } from './kernel-cache';
export { scopeGradient } from './fixes';
export { BackwardPassError } from './backward-failure';
export { guardedGradients } from './guarded-gradients';
export { unfusedConvolutionCall, needsUnfusedCall } from './unfused-convolution';
