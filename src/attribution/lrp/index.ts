/** Layer-wise Relevance Propagation: rules, composites, the BatchNorm canonizer and `lrp` itself. */
export { lrp, type LrpOptions } from './lrp';
export {
  rules,
  isRule,
  divideStabilized,
  keepInput,
  keepParameters,
  type Rule,
  type BasicRule,
  type PassRule,
  type GradientRule,
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
  type Composite,
  type CompositeName,
  type CompositeOptions,
  type CustomCompositeOptions,
  type EpsilonGammaBoxOptions,
  type LayerRules,
} from './composites';
export {
  registerLrpLayer,
  LAYER_KINDS,
  type LayerKind,
  type LrpLayerSpec,
  type LinearParameters,
} from './layer-catalogue';
