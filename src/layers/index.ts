import { EdgeFilterStem, type EdgeFilterStemArgs } from './edge-filter-stem';
import { gapFcHead } from './gap-fc-head';
import { InvertibleConceptFlow, type InvertibleConceptFlowArgs } from './invertible-concept-flow';
import { LAYER_CLASSES } from './register';
import { SemanticBottleneck, type SemanticBottleneckArgs } from './semantic-bottleneck';
import { SpatialShuffle, type SpatialShuffleArgs } from './spatial-shuffle';

export { EdgeFilterStem, type EdgeFilterStemArgs } from './edge-filter-stem';
export { DEFAULT_FILTERS, FILTER_KERNELS, FILTER_NAMES, type FilterName, type FilterSpec } from './filter-banks';
export { gapFcHead, type GapFcHeadArgs } from './gap-fc-head';
export { type FlowOutput, InvertibleConceptFlow, type InvertibleConceptFlowArgs } from './invertible-concept-flow';
export { LAYER_CLASSES } from './register';
export {
  type ConceptGroup,
  SEMANTIC_BOTTLENECK_ACTIVATIONS,
  SemanticBottleneck,
  type SemanticBottleneckActivation,
  type SemanticBottleneckArgs,
} from './semantic-bottleneck';
export { SpatialShuffle, type SpatialShuffleArgs } from './spatial-shuffle';

/**
 * Factories of the package's layers, in the style of `tf.layers`. A tree-shaken bundle that uses them
 * also keeps the layers' registration ({@link LAYER_CLASSES}), so the models they build load again.
 */
export const layers = /* @__PURE__ */ alongside(LAYER_CLASSES, {
  /** A fixed colour-and-edge filter stem; see {@link EdgeFilterStem}. */
  edgeFilterStem: (args?: EdgeFilterStemArgs): EdgeFilterStem => new EdgeFilterStem(args),
  /** A spatial shuffle of the H·W positions; see {@link SpatialShuffle}. */
  spatialShuffle: (args?: SpatialShuffleArgs): SpatialShuffle => new SpatialShuffle(args),
  /** Global average pooling + dense layers, the GAP+FC variant; see {@link gapFcHead}. */
  gapFcHead,
  /** A 1×1 convolution to concept channels + group softmax; see {@link SemanticBottleneck}. */
  semanticBottleneck: (args: SemanticBottleneckArgs): SemanticBottleneck => new SemanticBottleneck(args),
  /** An invertible flow that splits a representation into factors; see {@link InvertibleConceptFlow}. */
  invertibleConceptFlow: (args?: InvertibleConceptFlowArgs): InvertibleConceptFlow => new InvertibleConceptFlow(args),
});

/** Returns `value`; taking `registered` ties the registration to it for a tree-shaking bundler. */
function alongside<T>(registered: readonly unknown[], value: T): T {
  return registered.length > 0 ? value : value;
}
