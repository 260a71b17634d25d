import * as tf from '@tensorflow/tfjs-core';
import { EdgeFilterStem } from './edge-filter-stem';
import { InvertibleConceptFlow } from './invertible-concept-flow';
import { SemanticBottleneck } from './semantic-bottleneck';
import { SpatialShuffle } from './spatial-shuffle';

/**
 * The package's layer classes. Each is registered with tfjs's serialisation when the package is
 * imported, so `tf.loadLayersModel` can rebuild models that contain them.
 */
export const LAYER_CLASSES = [EdgeFilterStem, SpatialShuffle, SemanticBottleneck, InvertibleConceptFlow];

for (const layerClass of LAYER_CLASSES) tf.serialization.registerClass(layerClass);
