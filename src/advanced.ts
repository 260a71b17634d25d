/**
 * `tfjs-glassbox/advanced`: the building blocks under the methods, for users who write their own
 * methods or rules on the same machinery. The root entry (`tfjs-glassbox`) holds the API most users
 * need; everything here is stable too, but closer to tfjs's internals.
 *
 * - Gradient scopes: tfjs 4.22's gradient gaps closed (and gradient overrides installed) for exactly one
 *   synchronous computation, guided/deconvolution overrides, the per-call kernel cache, leak-free
 *   gradients that name a failing kernel, the unfused call of dilated convolutions.
 * - Row contexts: how stochastic layers draw one permutation per example within an attribution call.
 * - Quadrature rules of Integrated Gradients.
 * - LRP's rule building blocks (the stabilised division, identity modifiers, the rule type guard).
 * @packageDocumentation
 */
export {
  withBackendGapFixes,
  withBackendGapFixesSync,
  guardedGradients,
  guidedOverrides,
  deconvolutionOverrides,
  KernelCache,
  unfusedConvolutionCall,
  needsUnfusedCall,
  type BackendGapOptions,
  type SyncBackendGapOptions,
  type GradientOverride,
  type GradientDefinition,
  type GuidedOverrideOptions,
} from './core/backend-gaps';
export { currentRowContext, withRowContext, type RowContext } from './core/row-context';
export { quadrature, gaussLegendre, type Quadrature } from './attribution/quadrature';
export { divideStabilized, isRule, keepInput, keepParameters } from './attribution/lrp/rules';
