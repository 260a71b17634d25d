import * as tf from '@tensorflow/tfjs-core';
import { EdgeFilterStem } from './edge-filter-stem';
import { InvertibleConceptFlow } from './invertible-concept-flow';
import { SemanticBottleneck } from './semantic-bottleneck';
import { SpatialShuffle } from './spatial-shuffle';

/**
 * The package's layer classes, registered with tfjs's serialisation when the package is imported, so
 * `tf.loadLayersModel` can rebuild models that contain them.
 *
 * The registration is marked pure: a tree-shaking bundler keeps it (and the layer code) only when the
 * bundle uses `LAYER_CLASSES`, so a page that imports only, say, `saliency` carries no layer code. A
 * bundled page that loads a saved model with these layers, without otherwise using them, registers
 * them itself: `LAYER_CLASSES.forEach((c) => tf.serialization.registerClass(c))`.
 */
export const LAYER_CLASSES = /* @__PURE__ */ registerLayerClasses([EdgeFilterStem, SpatialShuffle, SemanticBottleneck, InvertibleConceptFlow]);

function registerLayerClasses<T extends tf.serialization.SerializableConstructor<tf.serialization.Serializable>[]>(classes: T): T {
  for (const layerClass of classes) tf.serialization.registerClass(layerClass);
  return classes;
}
