/**
 * What LRP knows about each layer class: how the class turns into steps of the LRP program (its
 * kind, which picks the composite's rule; for linear layers the operation `z = f(x; W, b)` that the
 * rules' parameter modifiers act on). Every class is described in one place, through
 * {@link registerLrpLayer}: tfjs's own layers in `builtin-layers.ts` and `recurrent.ts`, the package's
 * layers next to their classes, a user's layers anywhere.
 * @module
 */
import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { describeValue, GlassboxArgumentError } from '../../core/errors';
import { isRule, type Rule } from './rules';

/**
 * The composite slot of a step (the rule it gets unless a more specific matcher applies):
 * - `dense`, `conv`: linear operations with parameters (Dense, the convolutions, MatMul, ...);
 * - `activation`: element-wise non-linearities (fused ones included);
 * - `batchnorm`: a BatchNormalization not merged into a linear layer; `affine`: other element-wise
 *   scalings and shifts (Rescaling, a graph's Mul/Add by a constant);
 * - `normalization`: LayerNormalization (linear once its σ is held constant);
 * - `add`: sums (Add, Average, a graph's AddV2/Sub/AddN); `multiply`: products (Multiply, Dot, gated
 *   products inside LSTM/GRU cells, a graph's Mul/BatchMatMul of two computed tensors);
 * - `avgpool`: (global) average pooling, Mean; `maxpool`: max pooling and Maximum/Minimum merges;
 * - `concatenate`; `structural`: reshapes, padding, cropping, slicing, repeats, dropout, shuffles;
 * - `embedding`: token ids to vectors;
 * - `custom`: registered layers that fit none of these (no default rule).
 */
export type LayerKind =
  | 'dense'
  | 'conv'
  | 'activation'
  | 'batchnorm'
  | 'affine'
  | 'normalization'
  | 'add'
  | 'multiply'
  | 'avgpool'
  | 'maxpool'
  | 'concatenate'
  | 'structural'
  | 'embedding'
  | 'custom';

/** Every {@link LayerKind}. */
export const LAYER_KINDS: readonly LayerKind[] = [
  'dense',
  'conv',
  'activation',
  'batchnorm',
  'affine',
  'normalization',
  'add',
  'multiply',
  'avgpool',
  'maxpool',
  'concatenate',
  'structural',
  'embedding',
  'custom',
];

/** The parameters of a linear operation: `z = f(x; weight) + bias`. */
export interface LinearParameters {
  /** The weight in the layer's own layout (Dense `[in, out]`, Conv2D `[kh, kw, cin, cout]`, ...). */
  weight: tf.Tensor;
  /** The bias, one value per output channel, or `null` for a layer without one. */
  bias: tf.Tensor | null;
}

/** `(∂f(x; W)/∂x)ᵀ dy` of a linear step `z = f(x; W) + b`, shaped like its input `x` (see {@link LrpStepSpec.transpose}). */
export type LinearTranspose = (dy: tf.Tensor, parameters: LinearParameters, inputShape: readonly number[]) => tf.Tensor;

/**
 * An element-wise affine map along the last axis, `y = x·scale + shift` (scalars or vectors of the
 * last axis' size; `null` for 1 and 0). A canonizer can fold it into the linear step before it.
 */
export interface AffineParameters {
  /** The factor: a scalar or one value per channel of the last axis; `null` for 1. */
  scale: tf.Tensor | null;
  /** The offset: a scalar or one value per channel of the last axis; `null` for 0. */
  shift: tf.Tensor | null;
}

/** One step of an LRP program, as a layer description adds it (see {@link LrpBuilder.add}). */
export interface LrpStepSpec {
  /** Slots of the step's inputs (from the `inputs` given to `expand`, or returned by earlier `add` calls). */
  inputs: readonly number[];
  /** The composite slot of the step; `null` when only a rule by name or class can serve it. */
  kind: LayerKind | null;
  /** The step's output from its inputs (and, for linear steps, the possibly modified parameters). */
  forward(inputs: tf.Tensor[], parameters: LinearParameters | null): tf.Tensor;
  /** Names the part of a layer that takes several steps (`'activation'`, `'t2/candidate'`): the label is `layer/part`. */
  part?: string;
  /** The class name rules by class match (default: the layer's class, or the graph op). */
  className?: string;
  /** For a linear step: its parameters, which the rules' parameter modifiers act on. */
  parameters?: LinearParameters;
  /** For a linear step: scales output channel `c` of the weight by `scale[c]` (to merge a following BatchNorm). */
  scaleOutputs?(weight: tf.Tensor, scale: tf.Tensor): tf.Tensor;
  /**
   * For a linear step: the transpose of its linear map, `(∂f(x; W)/∂x)ᵀ dy` for the given parameters
   * (the bias plays no part) and input shape, e.g. a transposed convolution. The rules' vector–Jacobian
   * products then need no taped forward pass; without it they are taken with `tf.grads`.
   */
  transpose?: LinearTranspose;
  /** For an activation step: the function's name (`'relu'`, `'softmax'`, `'sigmoid'`, ...). */
  activation?: string;
  /** For an element-wise affine step: its scale and shift, so a canonizer can merge it. */
  affine?: AffineParameters;
  /** For a product: which inputs are gates (they get no relevance, see `rules.signalTakeAll`). */
  gates?: readonly boolean[];
  /** The output does not depend on the input values (initial states): relevance stops here. */
  constant?: boolean;
  /** The step's own rule under every composite (rules by name or class still take precedence). */
  rule?: Rule;
}

/** Adds steps to the LRP program while a layer (or graph node) is described. */
export interface LrpBuilder {
  /** Adds a step; returns the slot of its output. */
  add(step: LrpStepSpec): number;
  /**
   * Adds the steps of another layer on the given slots (for wrappers such as TimeDistributed); returns
   * its output slot. `inputShapes` default to those of this call.
   */
  layer(layer: tfl.layers.Layer, inputs: readonly number[], inputShapes?: readonly (readonly (number | null)[] | undefined)[]): number;
  /** Keeps `tensor` alive as long as the program and frees it afterwards; returns it. */
  own<T extends tf.Tensor>(tensor: T): T;
  /** Static shapes of the inputs of this call (`null` for unknown sizes), when known. */
  readonly inputShapes: readonly (readonly (number | null)[] | undefined)[];
}

/** How a layer class runs under LRP; see {@link registerLrpLayer}. */
export interface LrpLayerSpec {
  /** The composite slot whose rule the layer gets (`'dense'` and `'conv'` need `linear`); not needed with `expand`. */
  kind?: LayerKind;
  /**
   * For a linear layer: its parameters and its forward pass with given parameters, so that rules can
   * modify them (ZPlus, Gamma, Flat, ...). The tensors returned by `parameters` stay owned by the layer.
   * Without it the layer's own `call` is the forward pass and the rule sees no parameters.
   */
  linear?: {
    /** The layer's parameters, read from `layer` (owned by it: not disposed by LRP). */
    parameters(layer: tfl.layers.Layer): {
      /** The weight, in the layout `forward` expects. */
      weight: tf.Tensor;
      /** The bias (omitted or `null`: none). */
      bias?: tf.Tensor | null;
    };
    /** `z = f(x; weight) + bias` for the given (possibly rule-modified) parameters, bias included. */
    forward(x: tf.Tensor, parameters: LinearParameters): tf.Tensor;
    /** Optional: the transpose of the linear map (see {@link LrpStepSpec.transpose}), for speed. */
    transpose?: LinearTranspose;
  };
  /**
   * The class's own rule under every composite, ahead of the composite's first-layer and per-kind
   * rules (`layerRules` by name or class still take precedence). Without it the layer gets the rule of
   * its `kind`.
   */
  rule?: Rule;
  /**
   * Full control: adds the layer's steps with `builder.add` (e.g. a linear step, then an activation
   * step) and returns the slot of the layer's output. `inputs` are the slots of the layer's inputs.
   */
  expand?(layer: tfl.layers.Layer, builder: LrpBuilder, inputs: readonly number[]): number;
}

const registry = new Map<string, LrpLayerSpec>();

/**
 * Tells LRP how to run a layer class (by its `className`), so every composite can give it the rule
 * of `kind`. A linear layer (e.g. a fixed filter bank) describes its weights and forward pass:
 * @example
 * registerLrpLayer('FixedBlur', {
 *   kind: 'conv',
 *   linear: {
 *     parameters: (layer) => ({ weight: (layer as FixedBlur).kernel }),
 *     forward: (x, { weight }) => tf.depthwiseConv2d(x as tf.Tensor4D, weight as tf.Tensor4D, 1, 'same'),
 *   },
 *   rule: rules.wSquare(), // optional: the class's own rule under every composite
 * });
 * A parameter-free layer needs only its kind: `registerLrpLayer('Mish', { kind: 'activation' })`; a
 * layer made of several operations adds them with `expand` (see {@link LrpBuilder}).
 * Registering a class again replaces the previous description (tfjs's own classes included).
 */
export function registerLrpLayer(className: string, spec: LrpLayerSpec): void {
  if (typeof className !== 'string' || className.length === 0) {
    throw new GlassboxArgumentError('className', `expected a layer class name, got ${describeValue(className)}`);
  }
  assertSpec(spec, 'spec');
  const { linear } = spec;
  if (
    linear !== undefined &&
    (typeof linear?.parameters !== 'function' || typeof linear?.forward !== 'function' || (linear.transpose !== undefined && typeof linear.transpose !== 'function'))
  ) {
    throw new GlassboxArgumentError('spec.linear', 'expected { parameters(layer), forward(x, parameters), transpose?(dy, parameters, inputShape) }');
  }
  if ((spec.kind === 'dense' || spec.kind === 'conv') && linear === undefined && spec.expand === undefined) {
    throw new GlassboxArgumentError('spec.linear', `a '${spec.kind}' layer must describe its linear operation`);
  }
  registry.set(className, spec);
}

/**
 * A layer class that describes its own LRP: a static `lrpDescription` (a getter, so that declaring the
 * class has no side effect and bundlers can drop it when unused). The package's layers do this.
 */
export interface SelfDescribingLayerClass {
  readonly lrpDescription?: LrpLayerSpec;
}

/**
 * The description of a layer: the one registered for its class name (users' registrations win), else
 * the class's own `lrpDescription`, else `undefined` for a layer LRP does not know.
 */
export function lrpLayerSpec(layer: tfl.layers.Layer): LrpLayerSpec | undefined {
  return registry.get(layer.getClassName()) ?? (layer.constructor as SelfDescribingLayerClass).lrpDescription;
}

/** Validates the parts a layer and an op description share. */
export function assertSpec(spec: { kind?: unknown; rule?: unknown; expand?: unknown }, argument: string): void {
  if (spec === null || typeof spec !== 'object') {
    throw new GlassboxArgumentError(argument, `expected a description object, got ${describeValue(spec)}`);
  }
  if (spec.expand !== undefined && typeof spec.expand !== 'function') {
    throw new GlassboxArgumentError(`${argument}.expand`, `expected a function, got ${describeValue(spec.expand)}`);
  }
  if (spec.expand === undefined || spec.kind !== undefined) {
    if (!LAYER_KINDS.includes(spec.kind as LayerKind)) {
      throw new GlassboxArgumentError(
        `${argument}.kind`,
        `expected one of ${LAYER_KINDS.map((k) => `'${k}'`).join(', ')}, got ${describeValue(spec.kind)}`,
      );
    }
  }
  if (spec.rule !== undefined && !isRule(spec.rule)) {
    throw new GlassboxArgumentError(`${argument}.rule`, `expected a rule (see rules.*), got ${describeValue(spec.rule)}`);
  }
}
