/**
 * tfjs-glassbox: inspectable deep networks for TensorFlow.js.
 *
 * The public entry point re-exports only. Importing it registers tfjs's gradients (through
 * tfjs-layers) and the package's layers for serialisation.
 * @packageDocumentation
 */
import '@tensorflow/tfjs-layers';

// --- core ---------------------------------------------------------------------------------------
export type { ModelLike, ForwardFunction } from './core/model';
export { toForwardFunction } from './core/model';
export type { Target } from './core/target';
export type { CommonOptions } from './core/options';
export { DEFAULT_BATCH_SIZE } from './core/options';
export { GlassboxArgumentError, GlassboxModelError } from './core/errors';

// --- gradient family ----------------------------------------------------------------------------
export { saliency, gradientXInput, type SaliencyOptions } from './attribution/gradient';
export {
  integratedGradients,
  integratedGradientsDelta,
  type IntegratedGradientsOptions,
  type IntegratedGradientsDeltaOptions,
} from './attribution/integrated-gradients';
export { quadrature, gaussLegendre, QUADRATURE_METHODS, type QuadratureMethod, type Quadrature } from './attribution/quadrature';
export {
  smoothGrad,
  NOISE_TUNNEL_KINDS,
  type SmoothGradOptions,
  type NoiseTunnelKind,
  type BaseAttribution,
} from './attribution/noise-tunnel';
export { smoothTaylor, type SmoothTaylorOptions } from './attribution/smooth-taylor';
export {
  adaptiveSmoothTaylor,
  type AdaptiveSmoothTaylorOptions,
  type AdaptiveSmoothTaylorResult,
  type NoiseObjective,
} from './attribution/adaptive-noising';
export { guidedIntegratedGradients } from './attribution/guided';

// --- LRP ----------------------------------------------------------------------------------------

// --- perturbation and CAMs ----------------------------------------------------------------------

// --- interpretable layers -----------------------------------------------------------------------
export {
  DEFAULT_FILTERS,
  EdgeFilterStem,
  type EdgeFilterStemArgs,
  FILTER_KERNELS,
  FILTER_NAMES,
  type FilterName,
  type FilterSpec,
  gapFcHead,
  type GapFcHeadArgs,
  LAYER_CLASSES,
  layers,
  SpatialShuffle,
  type SpatialShuffleArgs,
} from './layers/index';

// --- concept tools ------------------------------------------------------------------------------
export {
  stemInputRelevance,
  type StemScores,
  stemScoresFromRelevance,
  type StemScoresOptions,
} from './concepts/stem-scores';

// --- metrics ------------------------------------------------------------------------------------
export { totalVariation, type TotalVariationOptions } from './metrics/total-variation';

// --- visualisation ------------------------------------------------------------------------------
