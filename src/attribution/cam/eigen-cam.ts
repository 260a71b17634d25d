/**
 * Eigen-CAM (Muhammad & Yeasin 2020; pytorch-grad-cam's definition): the projection of a spatial
 * layer's activations on their first principal component, `relu(A_c · v₁)`, where `A_c` is the
 * activation reshaped to `[h·w, k]` and centred over positions (per channel) and `v₁` its first right
 * singular vector. Class-agnostic and gradient-free: the target is not used. A singular vector's sign is
 * arbitrary; it is fixed so the projection correlates positively with the channel-mean activation.
 *
 * The first singular vector comes from power iteration on the smaller Gram matrix (`A_cᵀA_c`, `k × k`,
 * or `A_cA_cᵀ`, `h·w × h·w`, whose top eigenvector `u₁` gives the projection `σ₁u₁`), batched over
 * examples, in tfjs ops.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ModelLike } from '../../core/model';
import { optionKeys } from '../../core/option-keys';
import { COMMON_OPTION_KEYS } from '../../core/options';
import { prepareCall } from '../../core/prepare';
import { camInput, camLayers, camOverChunks, upsample } from './cam-layers';
import type { CamOptions } from './gradient-cams';
import { transposedMatMul } from '../../core/transposed-matmul';

const EIGEN_CAM_KEYS = optionKeys<CamOptions>()('layer', ...COMMON_OPTION_KEYS);

/** Power-iteration steps: the error in v₁ shrinks as (λ₂/λ₁)^steps. */
const POWER_STEPS = 200;

/**
 * Eigen-CAM map, `[N, H, W, 1]` for an image batch `x: [N, H, W, C]` (see the module description).
 * @example
 * const cam = await eigenCam(model, images, { layer: 'block5_conv3' });
 */
export async function eigenCam(model: ModelLike, x: tf.Tensor, options: CamOptions = {}): Promise<tf.Tensor4D> {
  const call = await prepareCall(model, x, options, { keys: EIGEN_CAM_KEYS, gradients: false });
  try {
    const input = camInput(call, 'eigenCam');
    const layers = camLayers(call, options?.layer, 'options.layer', 'eigenCam');
    const size: [number, number] = [input.shape[1], input.shape[2]];
    return (await camOverChunks(call, layers, 'activations', ([{ activation }]) => upsample(firstComponentMap(activation), size))) as tf.Tensor4D;
  } finally {
    call.dispose();
  }
}

/** `relu(A_c · v₁)` per example, `[n, h, w, 1]`, sign-fixed as the module says. */
export function firstComponentMap(activation: tf.Tensor4D): tf.Tensor4D {
  const [n, h, w, k] = activation.shape;
  const positions = h * w;
  const flat = tf.reshape(activation, [n, positions, k]) as tf.Tensor3D;
  const centred = tf.sub(flat, tf.mean(flat, 1, true)) as tf.Tensor3D;
  let projection: tf.Tensor;
  if (positions <= k) {
    const gram = tf.matMul(centred, centred, false, true) as tf.Tensor3D; // [n, hw, hw]
    const u = topEigenvector(gram);
    const lambda = tf.sum(tf.mul(u, tf.matMul(gram, u)), [1, 2], true);
    projection = tf.mul(u, tf.sqrt(tf.relu(lambda)));
  } else {
    const covariance = transposedMatMul(centred, centred) as tf.Tensor3D; // [n, k, k]
    projection = tf.matMul(centred, topEigenvector(covariance));
  }
  const p = tf.reshape(projection, [n, positions]);
  const mean = tf.mean(flat, 2);
  const correlation = tf.sum(tf.mul(tf.sub(p, tf.mean(p, 1, true)), tf.sub(mean, tf.mean(mean, 1, true))), 1, true);
  const sign = tf.where(tf.less(correlation, 0), tf.fill(correlation.shape, -1), tf.onesLike(correlation));
  return tf.reshape(tf.relu(tf.mul(p, sign)), [n, h, w, 1]);
}

/** Unit top eigenvector `[n, m, 1]` of symmetric positive semi-definite matrices `[n, m, m]`, by power iteration from the all-ones vector. */
function topEigenvector(matrices: tf.Tensor3D): tf.Tensor3D {
  const [n, m] = matrices.shape;
  let v = tf.fill([n, m, 1], 1 / Math.sqrt(m)) as tf.Tensor3D;
  for (let step = 0; step < POWER_STEPS; step++) {
    const next = tf.tidy(() => {
      const product = tf.matMul(matrices, v);
      return tf.divNoNan(product, tf.norm(product, 'euclidean', [1, 2], true)) as tf.Tensor3D;
    });
    v.dispose();
    v = next;
  }
  return v;
}
