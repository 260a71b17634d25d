/** Layer-wise Relevance Propagation: rules, composites, canonizers, layer and op descriptions, and `lrp` itself. */
export { lrp, type LrpModel, type LrpOptions } from './lrp';
export {
  rules,
  type Rule,
  type BasicRule,
  type PassRule,
  type GradientDefinition,
  type ProductRule,
  type InputModifier,
  type ParameterModifier,
  type ParameterRole,
  type GradientMapper,
  type Reducer,
  type StabilizerOptions,
  type AlphaBetaOptions,
  type GammaOptions,
  type ZBoxOptions,
  type Bound,
} from './rules';
export {
  composites,
  COMPOSITE_NAMES,
  registerComposite,
  type Composite,
  type CompositeEntry,
  type CompositeFactory,
  type CompositeName,
  type CompositeOptions,
  type CompositeSettings,
  type CustomCompositeOptions,
  type EpsilonGammaBoxOptions,
  type LayerMatcher,
  type LayerPattern,
  type LayerRules,
  type LrpLayerInfo,
  type RegisterCompositeOptions,
} from './composites';
export { canonizers, DEFAULT_CANONIZERS, registerCanonizer, type Canonizer } from './canonizers';
export {
  registerLrpLayer,
  LAYER_KINDS,
  type AffineParameters,
  type LayerKind,
  type LinearParameters,
  type LinearTranspose,
  type LrpBuilder,
  type LrpLayerSpec,
  type LrpStepSpec,
} from './layer-catalogue';
export { registerLrpOp, type LrpOpSpec } from './graph-ops';
export type { GraphModelLike } from './graph-model-source';
export type { LrpGraphNode, ProgramDraft, ProgramStep } from './program';
