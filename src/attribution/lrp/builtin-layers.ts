/**
 * LRP descriptions of tfjs-layers' own classes, each registered through `registerLrpLayer` like any
 * user's layer (the recurrent layers and their wrappers are in `recurrent.ts`).
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { GlassboxModelError } from '../../core/errors';
import { conv2dForward, depthwiseForward } from './convolution-forward';
import { transposeOfConv2d, transposeOfDense, transposeOfDepthwise, type ConvPadding } from './linear-transposes';
import { registerLrpLayer, type AffineParameters, type LayerKind, type LinearParameters, type LrpBuilder, type LrpLayerSpec, type LrpStepSpec } from './layer-catalogue';

/** A weight of `layer` by its short name (`kernel`, `bias`, `gamma`, ...). */
export function layerWeight(layer: tfl.layers.Layer, name: string): tf.Tensor {
  const variable = layer.weights.find((w) => w.originalName === name || w.originalName.endsWith(`/${name}`));
  if (!variable) throw new GlassboxModelError(`lrp: layer "${layer.name}" (${layer.getClassName()}) has no weight '${name}'; is it built?`);
  return variable.read();
}

/** Adds `bias` to `z` (when there is one). */
export function addBias(z: tf.Tensor, bias: tf.Tensor | null): tf.Tensor {
  return bias === null ? z : tf.add(z, bias);
}

/** Scales the last axis of the weight: output channels of Dense and Conv kernels. */
export const scaleLastAxis = (weight: tf.Tensor, scale: tf.Tensor): tf.Tensor => tf.mul(weight, scale);

/** `x · W` over the last axis of `x` (any rank), plus the bias. */
export function denseForward(x: tf.Tensor, p: LinearParameters): tf.Tensor {
  if (x.rank === 2) return addBias(tf.matMul(x as tf.Tensor2D, p.weight as tf.Tensor2D), p.bias);
  const [inputs, units] = p.weight.shape;
  const flat = tf.matMul(tf.reshape(x, [-1, inputs]), p.weight as tf.Tensor2D);
  return addBias(tf.reshape(flat, [...x.shape.slice(0, -1), units]), p.bias);
}

/** An activation function by its tfjs name (`'relu'`, `'hardSigmoid'`, `'swish'`, ...), as a forward pass. */
export function activationForward(name: string): (x: tf.Tensor) => tf.Tensor {
  const layer = tfl.layers.activation({ activation: name as 'relu' });
  return (x) => layer.call(x, {}) as tf.Tensor;
}

/** Adds a linear step, then the fused activation step unless it is `'linear'`; returns the last slot. */
export function linearWithActivation(
  builder: LrpBuilder,
  input: number,
  linear: Omit<LrpStepSpec, 'inputs'> & { parameters: LinearParameters },
  activation: string,
): number {
  const z = builder.add({ ...linear, inputs: [input] });
  if (activation === 'linear') return z;
  const apply = activationForward(activation);
  return builder.add({ inputs: [z], kind: 'activation', part: 'activation', className: 'Activation', activation, forward: ([v]) => apply(v) });
}

function pair(value: unknown): [number, number] {
  const list = Array.isArray(value) ? (value as number[]) : [value as number, value as number];
  return [list[0], list[1] ?? list[0]];
}

function assertChannelsLast(layer: tfl.layers.Layer): void {
  const format = layer.getConfig().dataFormat;
  if (format !== undefined && format !== 'channelsLast') {
    throw new GlassboxModelError(`lrp: layer "${layer.name}" (${layer.getClassName()}) uses dataFormat '${String(format)}'; only 'channelsLast' is supported`);
  }
}

/** A depthwise convolution as a linear step. Kernel [kh, kw, channels, multiplier]: output channel c·M + m. */
export function depthwiseStep(
  kernel: tf.Tensor,
  bias: tf.Tensor | null,
  strides: [number, number],
  padding: ConvPadding,
  dilations: [number, number],
): Omit<LrpStepSpec, 'inputs'> & { parameters: LinearParameters } {
  return {
    kind: 'conv',
    parameters: { weight: kernel, bias },
    forward: ([x], p) => depthwiseForward(x as tf.Tensor4D, p!.weight as tf.Tensor4D, p!.bias, strides, padding, dilations),
    transpose: transposeOfDepthwise(strides, padding, dilations),
    scaleOutputs: (w, scale) => tf.mul(w, tf.reshape(scale, [w.shape[2]!, w.shape[3]!])),
  };
}

/** Registers a tfjs linear layer: its linear step(s), then its fused activation. */
function registerLinear(className: string, steps: (layer: tfl.layers.Layer) => (Omit<LrpStepSpec, 'inputs'> & { parameters: LinearParameters })[]): void {
  registerLrpLayer(className, {
    expand(layer, builder, [input]) {
      assertChannelsLast(layer);
      const parts = steps(layer);
      const last = parts.slice(0, -1).reduce((slot, part) => builder.add({ ...part, inputs: [slot] }), input);
      return linearWithActivation(builder, last, parts[parts.length - 1], String(layer.getConfig().activation ?? 'linear'));
    },
  });
}

const optionalBias = (layer: tfl.layers.Layer): tf.Tensor | null => (layer.getConfig().useBias === false ? null : layerWeight(layer, 'bias'));
const convGeometry = (layer: tfl.layers.Layer) => {
  const config = layer.getConfig();
  return { strides: pair(config.strides), dilations: pair(config.dilationRate ?? 1), padding: config.padding as 'valid' | 'same' };
};

/** Registers classes that run through their own `call`, with a kind (and an activation name). */
function registerByCall(kind: LayerKind, classNames: readonly string[], activation?: (layer: tfl.layers.Layer) => string): void {
  for (const className of classNames) {
    registerLrpLayer(className, {
      expand: (layer, builder, inputs) =>
        builder.add({ inputs, kind, forward: layerCall(layer), activation: activation?.(layer) }),
    });
  }
}

/** The layer's own `call` in inference mode. */
export function layerCall(layer: tfl.layers.Layer): LrpStepSpec['forward'] {
  return (xs) => {
    const result = layer.call(xs.length === 1 ? xs[0] : xs, { training: false });
    if (!(result instanceof tf.Tensor)) {
      throw new GlassboxModelError(`lrp: layer "${layer.name}" (${layer.getClassName()}) returned several tensors; LRP supports single-output layers`);
    }
    return result;
  };
}

/**
 * Registers the descriptions of tfjs's own layer classes. Called once by the LayersModel compiler (an
 * explicit call rather than a side-effect import, so that bundlers keep it).
 */
export function registerBuiltInLayers(): void {
  registerLinear('Dense', (layer) => [
    {
      kind: 'dense',
      parameters: { weight: layerWeight(layer, 'kernel'), bias: optionalBias(layer) },
      forward: ([x], p) => denseForward(x, p!),
      transpose: transposeOfDense(),
      scaleOutputs: scaleLastAxis,
    },
  ]);
  registerLinear('Conv1D', (layer) => {
    const { strides, dilations, padding } = convGeometry(layer);
    return [
      {
        kind: 'conv',
        parameters: { weight: layerWeight(layer, 'kernel'), bias: optionalBias(layer) },
        forward: ([x], p) => addBias(tf.conv1d(x as tf.Tensor3D, p!.weight as tf.Tensor3D, strides[0], padding, 'NWC', dilations[0]), p!.bias),
        scaleOutputs: scaleLastAxis,
      },
    ];
  });
  registerLinear('Conv2D', (layer) => {
    const { strides, dilations, padding } = convGeometry(layer);
    return [
      {
        kind: 'conv',
        parameters: { weight: layerWeight(layer, 'kernel'), bias: optionalBias(layer) },
        forward: ([x], p) => conv2dForward(x as tf.Tensor4D, p!.weight as tf.Tensor4D, p!.bias, strides, padding, dilations),
        transpose: transposeOfConv2d(strides, padding, dilations),
        scaleOutputs: scaleLastAxis,
      },
    ];
  });
  registerLinear('DepthwiseConv2D', (layer) => {
    const { strides, dilations, padding } = convGeometry(layer);
    return [depthwiseStep(layerWeight(layer, 'depthwise_kernel'), optionalBias(layer), strides, padding, dilations)];
  });
  registerLinear('SeparableConv2D', (layer) => {
    const { strides, dilations, padding } = convGeometry(layer);
    return [
      { ...depthwiseStep(layerWeight(layer, 'depthwise_kernel'), null, strides, padding, dilations), part: 'depthwise' },
      {
        kind: 'conv',
        part: 'pointwise',
        parameters: { weight: layerWeight(layer, 'pointwise_kernel'), bias: optionalBias(layer) },
        forward: ([x], p) => conv2dForward(x as tf.Tensor4D, p!.weight as tf.Tensor4D, p!.bias, [1, 1], 'valid', [1, 1]),
        transpose: transposeOfConv2d([1, 1], 'valid', [1, 1]),
        scaleOutputs: scaleLastAxis,
      },
    ];
  });
  registerLinear('Conv2DTranspose', (layer) => {
    const { strides, padding } = convGeometry(layer);
    return [
      {
        kind: 'conv',
        parameters: { weight: layerWeight(layer, 'kernel'), bias: optionalBias(layer) },
        forward: ([x], p) => {
          const outputShape = layer.computeOutputShape(x.shape) as [number, number, number, number];
          return addBias(tf.conv2dTranspose(x as tf.Tensor4D, p!.weight as tf.Tensor4D, outputShape, strides, padding), p!.bias);
        },
        // Kernel [kh, kw, outChannels, inChannels]: output channels on axis 2.
        scaleOutputs: (w, scale) => tf.mul(w, tf.reshape(scale, [-1, 1])),
      },
    ];
  });

  registerByCall('activation', ['Activation'], (layer) => String(layer.getConfig().activation));
  registerByCall('activation', ['Softmax'], () => 'softmax');
  registerByCall('activation', ['ReLU'], () => 'relu');
  registerByCall('activation', ['LeakyReLU'], () => 'leakyReLU');
  registerByCall('activation', ['PReLU'], () => 'prelu');
  registerByCall('activation', ['ELU'], () => 'elu');
  registerByCall('activation', ['ThresholdedReLU'], () => 'thresholdedReLU');
  registerByCall('structural', [
    'Flatten',
    'Reshape',
    'Permute',
    'Dropout',
    'SpatialDropout1D',
    'GaussianNoise',
    'GaussianDropout',
    'AlphaDropout',
    'ZeroPadding2D',
    'Cropping2D',
    'UpSampling2D',
    'RepeatVector',
  ]);
  registerByCall('add', ['Add', 'Average']);
  registerByCall('multiply', ['Multiply', 'Dot']);
  registerByCall('maxpool', ['Maximum', 'Minimum', 'MaxPooling1D', 'MaxPooling2D', 'MaxPooling3D', 'GlobalMaxPooling1D', 'GlobalMaxPooling2D']);
  registerByCall('avgpool', ['AveragePooling1D', 'AveragePooling2D', 'AveragePooling3D', 'GlobalAveragePooling1D', 'GlobalAveragePooling2D']);
  registerByCall('concatenate', ['Concatenate']);
  registerByCall('embedding', ['Embedding']);
  registerLrpLayer('BatchNormalization', batchNormalization);
  registerLrpLayer('Rescaling', rescaling);
  registerLrpLayer('LayerNormalization', layerNormalization);
}

/** BatchNormalization: Pass by default; along the last axis an affine map MergeBatchNorm can fold in. */
const batchNormalization: LrpLayerSpec = {
  expand(layer, builder, inputs) {
    const rank = builder.inputShapes[0]?.length;
    return builder.add({ inputs, kind: 'batchnorm', forward: layerCall(layer), affine: batchNormAffine(layer, rank, builder) });
  },
};

/** `scale = γ/√(var + eps)`, `shift = β − μ·scale`, when the BatchNorm normalises the last axis. */
function batchNormAffine(layer: tfl.layers.Layer, rank: number | undefined, builder: LrpBuilder): AffineParameters | undefined {
  const config = layer.getConfig();
  const axis = Array.isArray(config.axis) ? (config.axis.length === 1 ? config.axis[0] : NaN) : config.axis;
  if (!(axis === -1 || (rank !== undefined && axis === rank - 1))) return undefined;
  const gamma = config.scale === false ? null : layerWeight(layer, 'gamma');
  const beta = config.center === false ? null : layerWeight(layer, 'beta');
  const mean = layerWeight(layer, 'moving_mean');
  const variance = layerWeight(layer, 'moving_variance');
  const epsilon = Number(config.epsilon ?? 1e-3);
  const { scale, shift } = tf.tidy(() => {
    const inverseStd = tf.rsqrt(tf.add(variance, epsilon));
    const s = gamma === null ? inverseStd : tf.mul(gamma, inverseStd);
    const centred = tf.neg(tf.mul(mean, s));
    return { scale: s, shift: beta === null ? centred : tf.add(beta, centred) };
  });
  return { scale: builder.own(scale), shift: builder.own(shift) };
}

/** Rescaling `y = x·scale + offset`: an element-wise affine map (Pass by default). */
const rescaling: LrpLayerSpec = {
  expand(layer, builder, inputs) {
    const config = layer.getConfig();
    const scale = builder.own(tf.scalar(Number(config.scale)));
    const shift = builder.own(tf.scalar(Number(config.offset ?? 0)));
    return builder.add({ inputs, kind: 'affine', forward: ([x]) => tf.add(tf.mul(tf.cast(x, 'float32'), scale), shift), affine: { scale, shift } });
  },
};

/** `x` with a zero gradient: the value is held constant under differentiation. */
export const stopGradient = tf.customGrad((x) => ({
  value: tf.add(x as tf.Tensor, 0),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
})) as (x: tf.Tensor) => tf.Tensor;

/**
 * LayerNormalization `y = γ ⊙ (x − μ)/σ + β` with σ = √(var + ε) held constant (CP-LRP, Ali et al.
 * 2022; AttnLRP): then the layer is linear in `x` (a centring and a per-example scale) and every
 * composite gives it the Norm rule, `R_in = x ⊙ Jᵀ[R / s(y)]` with that linear map's Jacobian `J`,
 * which conserves relevance up to the bias β. (With σ differentiated, `J x = 0`: a scale-invariant
 * layer would pass no relevance.)
 */
const layerNormalization: LrpLayerSpec = {
  expand(layer, builder, inputs) {
    const config = layer.getConfig();
    const epsilon = Number(config.epsilon ?? 1e-3);
    const gamma = config.scale === false ? null : layerWeight(layer, 'gamma');
    const beta = config.center === false ? null : layerWeight(layer, 'beta');
    const configured = Array.isArray(config.axis) ? (config.axis as number[]) : [config.axis as number];
    return builder.add({
      inputs,
      kind: 'normalization',
      forward: ([x]) => {
        const axes = configured.map((a) => (a < 0 ? x.rank + a : a));
        const broadcastShape = x.shape.map((d, i) => (axes.includes(i) ? d : 1));
        const mean = tf.mean(x, axes, true);
        const sigma = tf.sqrt(tf.add(tf.moments(stopGradient(x), axes, true).variance, epsilon));
        let y = tf.div(tf.sub(x, mean), sigma);
        if (gamma !== null) y = tf.mul(y, tf.reshape(gamma, broadcastShape));
        return beta === null ? y : tf.add(y, tf.reshape(beta, broadcastShape));
      },
    });
  },
};
