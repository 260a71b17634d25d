/**
 * How LRP runs the package's own layers. A user's {@link registerLrpLayer} for the same class name
 * takes precedence.
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { EdgeFilterStem } from '../../layers/edge-filter-stem';
import type { LayerDescription } from './layer-catalogue';
import { rules } from './rules';

/**
 * The description of one of the package's layers, or `null` for any other layer.
 *
 * - {@link EdgeFilterStem}: a convolution with its fixed block-diagonal kernel and its own rule,
 *   WSquare, under every composite (Zennit's `WSquare`; see the layer's documentation for why). It is
 *   the first linear layer of its model, so a composite's first-layer rule (Flat, ZBox) does not fall
 *   on the trainable convolution after it. `layerRules` can still give it another rule.
 */
export function describePackageLayer(layer: tfl.layers.Layer): LayerDescription | null {
  if (!(layer instanceof EdgeFilterStem)) return null;
  const kernel = layer.kernel();
  return {
    kind: 'conv',
    linear: [
      {
        part: '',
        parameters: { weight: kernel, bias: null },
        forward: (x, p) => tf.conv2d(x as tf.Tensor4D, p.weight as tf.Tensor4D, 1, 'same'),
      },
    ],
    activation: 'linear',
    rule: rules.wSquare(),
    owned: [kernel],
  };
}
