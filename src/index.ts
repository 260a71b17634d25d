/**
 * tfjs-glassbox: inspectable deep networks for TensorFlow.js.
 *
 * The public entry point re-exports only. Importing it registers tfjs's gradients (through
 * tfjs-layers) and the package's layers for serialisation.
 * @packageDocumentation
 */
import '@tensorflow/tfjs-layers';

// --- core ---------------------------------------------------------------------------------------
export type { ModelLike } from './core/model';
export type { Target, TargetFunction } from './core/target';
export type { BatchSize, CommonOptions } from './core/options';
export { SCORE_TRANSFORMS, type ScoreTransform } from './core/score-transform';
export { GlassboxArgumentError, GlassboxModelError } from './core/errors';
export { BackwardPassError } from './core/backend-gaps';

// --- gradient family ----------------------------------------------------------------------------
export { saliency, gradientXInput, type SaliencyOptions } from './attribution/gradient';
export {
  integratedGradients,
  integratedGradientsDelta,
  type Baseline,
  type IntegratedGradientsOptions,
  type IntegratedGradientsDeltaOptions,
} from './attribution/integrated-gradients';
export { QUADRATURE_METHODS, type QuadratureMethod } from './attribution/quadrature';
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
export { guidedBackpropIntegratedGradients, guidedIntegratedGradients } from './attribution/guided';
export { guidedBackprop, deconvolution } from './attribution/guided-backprop';
export { deepLift, deepLiftShap, type DeepLiftOptions, type DeepLiftShapOptions } from './attribution/deeplift/deep-lift';
export type { BaselineSet } from './attribution/baseline-set';
export { gradientShap, type GradientShapOptions } from './attribution/gradient-shap';

// --- layer and neuron attribution, text -------------------------------------------------------
export * from './attribution/layer/index';

// --- LRP ----------------------------------------------------------------------------------------
export * from './attribution/lrp';

// --- perturbation and CAMs ----------------------------------------------------------------------
export { rise, type RiseOptions } from './attribution/perturbation/rise';
export { mfpp, type MfppOptions, MFPP_SCORES, type MfppScore } from './attribution/perturbation/mfpp';
export { occlusion, type OcclusionOptions } from './attribution/perturbation/occlusion';
export { slic, type SlicOptions, type Superpixels, type PixelArray } from './attribution/perturbation/superpixels';
export { superpixelMask } from './attribution/perturbation/superpixel-mask';
export type { FeatureIds, FeatureMask, NestedIds } from './attribution/perturbation/feature-mask';
export { featureAblation, type FeatureAblationOptions } from './attribution/perturbation/feature-ablation';
export { featurePermutation, type FeaturePermutationOptions } from './attribution/perturbation/feature-permutation';
export { shapleyValueSampling, type ShapleyValueSamplingOptions } from './attribution/perturbation/shapley-value-sampling';
export { kernelShap, type KernelShapOptions } from './attribution/perturbation/kernel-shap';
export { lime, type LimeOptions } from './attribution/perturbation/lime';
export * from './attribution/cam/index';

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
export {
  type ConceptGroup,
  type FlowOutput,
  InvertibleConceptFlow,
  type InvertibleConceptFlowArgs,
  SEMANTIC_BOTTLENECK_ACTIVATIONS,
  SemanticBottleneck,
  type SemanticBottleneckActivation,
  type SemanticBottleneckArgs,
} from './layers/index';

// --- concept tools ------------------------------------------------------------------------------
export {
  stemInputRelevance,
  type StemModelScoresOptions,
  type StemScores,
  stemScores,
  stemScoresFromRelevance,
  type StemScoresOptions,
} from './concepts/stem-scores';
export {
  type ConceptMatch,
  inspectability,
  type InspectabilityOptions,
  type InspectabilityResult,
  type InspectabilityThreshold,
} from './concepts/inspectability';
export {
  conceptLoss,
  type ConceptGroupsLike,
  type ConceptLossOptions,
  conceptMasksFromLabels,
  maskedGroupCrossEntropy,
} from './concepts/concept-loss';
export { DEFAULT_RHO, disentanglingLoss, type DisentanglingLossFn, flowNll } from './concepts/flow-losses';

// --- metrics ------------------------------------------------------------------------------------
export { totalVariation, type TotalVariationOptions } from './metrics/total-variation';
export {
  deletionInsertion,
  DELETION_INSERTION_MODES,
  type DeletionInsertionMode,
  type DeletionInsertionOptions,
  type DeletionInsertionResult,
  type DeletionResult,
  type InsertionResult,
} from './metrics/deletion-insertion';
export { sensitivityMax, type ExplanationFunction, type SensitivityMaxOptions } from './metrics/sensitivity-max';
export {
  infidelity,
  type InfidelityOptions,
  type InfidelityPerturbation,
  type InfidelityPerturbationResult,
} from './metrics/infidelity';
export { METRIC_SCORES, type MetricScore } from './metrics/deprecated-names';

// --- information analysis ---------------------------------------------------------------------
export * as info from './info/index';
export {
  type FactorInformation,
  type FactorPairInformation,
  type Histogram,
  type LayerInformation,
  layerInformation,
  type LayerInformationOptions,
  type LayerInformationResult,
  type UnitSignificance,
} from './info/layer-information';

// --- visualisation ------------------------------------------------------------------------------
export { applyColormap, type Colormap, type ColormapName, COLORMAP_NAMES, COLORMAPS } from './viz/colormap';
export {
  CHANNEL_REDUCTIONS,
  type ChannelReduction,
  HEATMAP_SIGNS,
  heatmap,
  type HeatmapOptions,
  type HeatmapScale,
  type HeatmapSign,
} from './viz/heatmap';
export { overlay, type OverlayOptions } from './viz/overlay';
export { concatTiles, type ConcatTilesOptions, type Tile } from './viz/concat-tiles';
