import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

/**
 * The input shape of a single-input image layer, checked to be rank 4 `[batch, height, width, channels]`.
 * @param who names the layer in the error message.
 */
export function imageInputShape(inputShape: tfl.Shape | tfl.Shape[], who: string): tfl.Shape {
  const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
  if (shape.length !== 4) {
    throw new Error(`${who}: expected input of rank 4 [batch, height, width, channels], got rank ${shape.length} (shape [${shape.join(', ')}])`);
  }
  return shape;
}

/** The one input tensor of a single-input image layer, checked to be rank 4. */
export function imageInput(inputs: tf.Tensor | tf.Tensor[], who: string): tf.Tensor4D {
  const x = Array.isArray(inputs) ? inputs[0] : inputs;
  if (x.rank !== 4) {
    throw new Error(`${who}: expected input of rank 4 [batch, height, width, channels], got rank ${x.rank} (shape [${x.shape.join(', ')}])`);
  }
  return x as tf.Tensor4D;
}
