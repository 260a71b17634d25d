/**
 * What LRP knows about each tfjs layer class: its kind (which composite slot gives its rule) and, for
 * linear layers, the linear operation `z = f(x; W, b)` that the rules' parameter modifiers act on.
 * Custom layer classes join the catalogue with {@link registerLrpLayer}.
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { describeValue, GlassboxArgumentError, GlassboxModelError } from '../../core/errors';
import { describePackageLayer } from './package-layers';
import { isRule, type Rule } from './rules';

/**
 * The composite slot a layer belongs to:
 * - `dense`, `conv`: linear layers (Conv1D, Conv2D, DepthwiseConv2D, SeparableConv2D, Conv2DTranspose);
 * - `activation`: ReLU, ReLU6 and every other element-wise activation (fused ones included);
 * - `batchnorm`: BatchNormalization not merged into a linear layer;
 * - `add`; `avgpool`: (global) average pooling; `maxpool`: (global) max pooling; `concatenate`;
 * - `structural`: Flatten, Reshape, Permute, Dropout and friends, ZeroPadding2D, Cropping2D, UpSampling2D;
 * - `custom`: registered layers that fit none of these.
 */
export type LayerKind =
  | 'dense'
  | 'conv'
  | 'activation'
  | 'batchnorm'
  | 'add'
  | 'avgpool'
  | 'maxpool'
  | 'concatenate'
  | 'structural'
  | 'custom';

/** Every {@link LayerKind}. */
export const LAYER_KINDS: readonly LayerKind[] = [
  'dense',
  'conv',
  'activation',
  'batchnorm',
  'add',
  'avgpool',
  'maxpool',
  'concatenate',
  'structural',
  'custom',
];

/** The parameters of a linear operation: `z = f(x; weight) + bias`. */
export interface LinearParameters {
  /** The weight (kernel) tensor. */
  weight: tf.Tensor;
  /** The bias, or `null` for a layer without one. */
  bias: tf.Tensor | null;
}

/** A linear operation `z = f(x; W, b)`, evaluated with any (modified) parameters. */
export interface LinearOperation {
  /** `''` for a whole layer, `'depthwise'` / `'pointwise'` for the parts of a SeparableConv2D. */
  part: string;
  parameters: LinearParameters;
  forward(x: tf.Tensor, parameters: LinearParameters): tf.Tensor;
  /** Scales output channel `c` of the weight by `scale[c]` (used to merge a following BatchNorm). */
  scaleOutputs?(weight: tf.Tensor, scale: tf.Tensor): tf.Tensor;
}

/** How LRP runs a layer. */
export interface LayerDescription {
  kind: LayerKind;
  /** The layer's linear operations, in order (two for SeparableConv2D); absent for non-linear layers. */
  linear?: LinearOperation[];
  /** The fused activation applied after the linear operations (`'linear'`: none). */
  activation?: string;
  /** The layer's own rule, ahead of the composite's first-layer and per-kind rules. */
  rule?: Rule;
  /** Tensors made for the description (e.g. a kernel built on demand); the LRP program frees them. */
  owned?: tf.Tensor[];
}

/** How a custom layer class runs under LRP; see {@link registerLrpLayer}. */
export interface LrpLayerSpec {
  /** The composite slot whose rule the layer gets (`'dense'` and `'conv'` need `linear`). */
  kind: LayerKind;
  /**
   * For a linear layer: its parameters and its forward pass with given parameters, so that rules can
   * modify them (ZPlus, Gamma, Flat, ...). The tensors returned by `parameters` stay owned by the layer.
   * Without it the layer's own `call` is the forward pass and the rule sees no parameters.
   */
  linear?: {
    /** The layer's weight and bias (the layer keeps owning them). */
    parameters(layer: tfl.layers.Layer): {
      /** The weight (kernel) tensor. */
      weight: tf.Tensor;
      /** The bias; `null` or absent for none. */
      bias?: tf.Tensor | null;
    };
    /** The layer's linear operation `z = f(x; W, b)` with the given (possibly modified) parameters. */
    forward(x: tf.Tensor, parameters: LinearParameters): tf.Tensor;
  };
  /**
   * The class's own rule under every composite, ahead of the composite's first-layer and per-kind
   * rules (`layerRules` by name or class still take precedence). Without it the layer gets the rule of
   * its `kind`.
   */
  rule?: Rule;
}

const registry = new Map<string, LrpLayerSpec>();

/**
 * Tells LRP how to run a custom layer class (by its `className`), so every composite can give it the
 * rule of `kind`. A linear layer (e.g. a fixed filter bank) describes its weights and forward pass:
 * @example
 * registerLrpLayer('FixedBlur', {
 *   kind: 'conv',
 *   linear: {
 *     parameters: (layer) => ({ weight: (layer as FixedBlur).kernel }),
 *     forward: (x, { weight }) => tf.depthwiseConv2d(x as tf.Tensor4D, weight as tf.Tensor4D, 1, 'same'),
 *   },
 *   rule: rules.wSquare(), // optional: the class's own rule under every composite
 * });
 * A parameter-free layer needs only its kind: `registerLrpLayer('Mish', { kind: 'activation' })`.
 * Registering a class again replaces the previous description.
 */
export function registerLrpLayer(className: string, spec: LrpLayerSpec): void {
  if (typeof className !== 'string' || className.length === 0) {
    throw new GlassboxArgumentError('className', `expected a layer class name, got ${describeValue(className)}`);
  }
  if (spec === null || typeof spec !== 'object' || !LAYER_KINDS.includes(spec.kind)) {
    throw new GlassboxArgumentError(
      'spec.kind',
      `expected one of ${LAYER_KINDS.map((k) => `'${k}'`).join(', ')}, got ${describeValue(spec?.kind)}`,
    );
  }
  const { linear } = spec;
  if (linear !== undefined && (typeof linear?.parameters !== 'function' || typeof linear?.forward !== 'function')) {
    throw new GlassboxArgumentError('spec.linear', 'expected { parameters(layer), forward(x, parameters) }');
  }
  if ((spec.kind === 'dense' || spec.kind === 'conv') && linear === undefined) {
    throw new GlassboxArgumentError('spec.linear', `a '${spec.kind}' layer must describe its linear operation`);
  }
  if (spec.rule !== undefined && !isRule(spec.rule)) {
    throw new GlassboxArgumentError('spec.rule', `expected a rule (see rules.*), got ${describeValue(spec.rule)}`);
  }
  registry.set(className, spec);
}

const ACTIVATION_CLASSES = ['Activation', 'ReLU', 'LeakyReLU', 'PReLU', 'ELU', 'ThresholdedReLU', 'Softmax'];
const STRUCTURAL_CLASSES = [
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
];
// Built in a call marked pure, so bundles that do not use LRP drop it.
const SIMPLE_KINDS: Record<string, LayerKind> = /* @__PURE__ */ (() => ({
  BatchNormalization: 'batchnorm',
  Add: 'add',
  Concatenate: 'concatenate',
  AveragePooling1D: 'avgpool',
  AveragePooling2D: 'avgpool',
  GlobalAveragePooling1D: 'avgpool',
  GlobalAveragePooling2D: 'avgpool',
  MaxPooling1D: 'maxpool',
  MaxPooling2D: 'maxpool',
  GlobalMaxPooling1D: 'maxpool',
  GlobalMaxPooling2D: 'maxpool',
  ...Object.fromEntries(ACTIVATION_CLASSES.map((c) => [c, 'activation' as const])),
  ...Object.fromEntries(STRUCTURAL_CLASSES.map((c) => [c, 'structural' as const])),
}))();

/** Describes `layer`, or returns `null` for a class LRP does not know. */
export function describeLayer(layer: tfl.layers.Layer): LayerDescription | null {
  const className = layer.getClassName();
  const custom = registry.get(className);
  if (custom) {
    if (!custom.linear) return { kind: custom.kind, rule: custom.rule };
    const { weight, bias } = custom.linear.parameters(layer);
    const operation: LinearOperation = { part: '', parameters: { weight, bias: bias ?? null }, forward: custom.linear.forward };
    return { kind: custom.kind, linear: [operation], activation: 'linear', rule: custom.rule };
  }
  const packageLayer = describePackageLayer(layer);
  if (packageLayer) return packageLayer;
  const simple = SIMPLE_KINDS[className];
  if (simple) return { kind: simple };
  const builtIn = builtInLinear(layer, className);
  if (builtIn === null) return null;
  const config = layer.getConfig();
  if (config.dataFormat !== undefined && config.dataFormat !== 'channelsLast') {
    throw new GlassboxModelError(
      `lrp: layer "${layer.name}" (${className}) uses dataFormat '${String(config.dataFormat)}'; only 'channelsLast' is supported`,
    );
  }
  return { kind: className === 'Dense' ? 'dense' : 'conv', linear: builtIn, activation: String(config.activation ?? 'linear') };
}

/** The linear operations of tfjs's own linear layers, or `null` for other classes. */
function builtInLinear(layer: tfl.layers.Layer, className: string): LinearOperation[] | null {
  const config = layer.getConfig();
  const weight = (name: string): tf.Tensor => {
    const variable = layer.weights.find((w) => w.originalName.endsWith(`/${name}`));
    if (!variable) throw new GlassboxModelError(`lrp: layer "${layer.name}" (${className}) has no weight '${name}'; is it built?`);
    return variable.read();
  };
  const bias = (): tf.Tensor | null => (config.useBias === false ? null : weight('bias'));
  const pair = (value: unknown): [number, number] => {
    const list = Array.isArray(value) ? (value as number[]) : [value as number, value as number];
    return [list[0], list[1] ?? list[0]];
  };
  const strides = pair(config.strides);
  const dilations = pair(config.dilationRate ?? 1);
  const padding = config.padding as 'valid' | 'same';
  const addBias = (z: tf.Tensor, b: tf.Tensor | null): tf.Tensor => (b === null ? z : tf.add(z, b));
  const lastAxisScale = (w: tf.Tensor, scale: tf.Tensor): tf.Tensor => tf.mul(w, scale);
  switch (className) {
    case 'Dense':
      return [
        {
          part: '',
          parameters: { weight: weight('kernel'), bias: bias() },
          forward: (x, p) => {
            if (x.rank === 2) return addBias(tf.matMul(x as tf.Tensor2D, p.weight as tf.Tensor2D), p.bias);
            const [inputs, units] = p.weight.shape;
            const flat = tf.matMul(tf.reshape(x, [-1, inputs]), p.weight as tf.Tensor2D);
            return addBias(tf.reshape(flat, [...x.shape.slice(0, -1), units]), p.bias);
          },
          scaleOutputs: lastAxisScale,
        },
      ];
    case 'Conv1D':
      return [
        {
          part: '',
          parameters: { weight: weight('kernel'), bias: bias() },
          forward: (x, p) =>
            addBias(tf.conv1d(x as tf.Tensor3D, p.weight as tf.Tensor3D, strides[0], padding, 'NWC', dilations[0]), p.bias),
          scaleOutputs: lastAxisScale,
        },
      ];
    case 'Conv2D':
      return [
        {
          part: '',
          parameters: { weight: weight('kernel'), bias: bias() },
          forward: (x, p) =>
            addBias(tf.conv2d(x as tf.Tensor4D, p.weight as tf.Tensor4D, strides, padding, 'NHWC', dilations), p.bias),
          scaleOutputs: lastAxisScale,
        },
      ];
    case 'DepthwiseConv2D':
      return [depthwise(weight('depthwise_kernel'), bias(), strides, padding, dilations, '')];
    case 'SeparableConv2D':
      return [
        depthwise(weight('depthwise_kernel'), null, strides, padding, dilations, 'depthwise'),
        {
          part: 'pointwise',
          parameters: { weight: weight('pointwise_kernel'), bias: bias() },
          forward: (x, p) => addBias(tf.conv2d(x as tf.Tensor4D, p.weight as tf.Tensor4D, 1, 'valid'), p.bias),
          scaleOutputs: lastAxisScale,
        },
      ];
    case 'Conv2DTranspose':
      return [
        {
          part: '',
          parameters: { weight: weight('kernel'), bias: bias() },
          forward: (x, p) => {
            const outputShape = layer.computeOutputShape(x.shape) as [number, number, number, number];
            return addBias(
              tf.conv2dTranspose(x as tf.Tensor4D, p.weight as tf.Tensor4D, outputShape, strides, padding),
              p.bias,
            );
          },
          // Kernel [kh, kw, outChannels, inChannels]: output channels on axis 2.
          scaleOutputs: (w, scale) => tf.mul(w, tf.reshape(scale, [-1, 1])),
        },
      ];
    default:
      return null;
  }
}

function depthwise(
  kernel: tf.Tensor,
  bias: tf.Tensor | null,
  strides: [number, number],
  padding: 'valid' | 'same',
  dilations: [number, number],
  part: string,
): LinearOperation {
  return {
    part,
    parameters: { weight: kernel, bias },
    forward: (x, p) => {
      const z = tf.depthwiseConv2d(x as tf.Tensor4D, p.weight as tf.Tensor4D, strides, padding, 'NHWC', dilations);
      return p.bias === null ? z : tf.add(z, p.bias);
    },
    // Kernel [kh, kw, channels, multiplier]: output channel c·M + m.
    scaleOutputs: (w, scale) => tf.mul(w, tf.reshape(scale, [w.shape[2]!, w.shape[3]!])),
  };
}
