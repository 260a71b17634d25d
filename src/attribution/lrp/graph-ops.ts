/**
 * What LRP knows about each TensorFlow op of a converted GraphModel: how a node becomes steps of the
 * LRP program. Convolutions and matrix products with constant weights are linear steps (their fused
 * bias and activation included); element-wise Add/Sub/Mul/RealDiv with a constant are affine steps
 * (merged into the linear step before them by the `'merge-batch-norm'` canonizer), with two computed
 * inputs they are sums and products; FusedBatchNorm is an affine step; pooling, Mean, concatenation
 * and reshapes route relevance. Ops join the catalogue with {@link registerLrpOp}.
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { describeValue, GlassboxArgumentError, GlassboxModelError } from '../../core/errors';
import { addBias, depthwiseStep, scaleLastAxis } from './builtin-layers';
import { conv2dForward } from './convolution-forward';
import { transposeOfConv2d, type ConvPadding, transposeOfDense } from './linear-transposes';
import { assertSpec, type AffineParameters, type LayerKind, type LrpBuilder, type LrpStepSpec } from './layer-catalogue';
import type { LrpGraphNode } from './program';
import type { Rule } from './rules';
import { transposeLastTwo } from '../../core/transposed-matmul';

/** How an op runs under LRP; see {@link registerLrpOp}. */
export interface LrpOpSpec {
  /** The composite slot whose rule the op gets; not needed with `expand`. */
  kind?: LayerKind;
  /**
   * The op's forward pass from all its inputs in order (constant inputs, i.e. weights, included), with
   * the node's decoded attributes at hand.
   */
  forward?(inputs: tf.Tensor[], node: LrpGraphNode): tf.Tensor;
  /** The op's own rule under every composite (rules by name or class still take precedence). */
  rule?: Rule;
  /**
   * Full control: adds the node's steps with `builder.add` and returns the slot of its output.
   * `inputs[k]` is the slot of input `k`, or `null` for a constant input (`node.inputs[k]` holds its value).
   */
  expand?(node: LrpGraphNode, builder: LrpBuilder, inputs: readonly (number | null)[]): number;
}

const registry = new Map<string, LrpOpSpec>();

/**
 * Tells LRP how to run a GraphModel op (by its TensorFlow name), so every composite can give it the
 * rule of `kind`. Registering an op again replaces the previous description (built-in ops included).
 * @example
 * registerLrpOp('Erf', { kind: 'activation', forward: ([x]) => erf(x) });
 * registerLrpOp('Square', { kind: 'custom', forward: ([x]) => tf.square(x), rule: rules.epsilon() });
 */
export function registerLrpOp(op: string, spec: LrpOpSpec): void {
  if (typeof op !== 'string' || op.length === 0) throw new GlassboxArgumentError('op', `expected a TensorFlow op name, got ${describeValue(op)}`);
  assertSpec(spec, 'spec');
  if (spec.expand === undefined && typeof spec.forward !== 'function') {
    throw new GlassboxArgumentError('spec.forward', `expected the op's forward pass (inputs, node) => tensor, got ${describeValue(spec.forward)}`);
  }
  registry.set(op, spec);
}

/** The description of an op, or `undefined`. */
export function lrpOpSpec(op: string): LrpOpSpec | undefined {
  return registry.get(op);
}

// --- attributes --------------------------------------------------------------------------------

function attribute<T>(node: LrpGraphNode, name: string, fallback?: T): T {
  const value = node.attributes[name];
  if (value === undefined) {
    if (fallback !== undefined) return fallback;
    throw new GlassboxModelError(`lrp: node "${node.name}" (op ${node.op}) has no attribute '${name}'`);
  }
  return value as T;
}

function assertNhwc(node: LrpGraphNode): void {
  const format = attribute(node, 'data_format', 'NHWC');
  if (format !== 'NHWC' && format !== 'NWC') throw new GlassboxModelError(`lrp: node "${node.name}" (op ${node.op}) uses data_format ${format}; only NHWC is supported`);
}

type Padding = Exclude<ConvPadding, number>;

function padding(node: LrpGraphNode): Padding {
  const value = String(attribute(node, 'padding'));
  if (value === 'SAME') return 'same';
  if (value === 'VALID') return 'valid';
  const p = attribute<number[]>(node, 'explicit_paddings');
  return [
    [p[0], p[1]],
    [p[2], p[3]],
    [p[4], p[5]],
    [p[6], p[7]],
  ];
}

const spatial = (values: number[]): [number, number] => [values[1], values[2]];

/** The constant input `k` of a node that needs it constant (a weight). */
function constantInput(node: LrpGraphNode, k: number, what: string): tf.Tensor {
  const value = node.inputs[k];
  if (!value) throw new GlassboxModelError(`lrp: node "${node.name}" (op ${node.op}) needs a constant ${what} (input ${k}); it is computed in this graph`);
  return value;
}

/** Slots of the computed inputs. */
function computed(inputs: readonly (number | null)[]): number[] {
  return inputs.filter((s): s is number => s !== null);
}

/** The node's forward pass on its computed inputs, constants filled in. */
function withConstants(node: LrpGraphNode, forward: (inputs: tf.Tensor[]) => tf.Tensor): (xs: tf.Tensor[]) => tf.Tensor {
  return (xs) => {
    let next = 0;
    return forward(node.inputs.map((c) => c ?? xs[next++]));
  };
}

// --- linear ops with fused bias and activation ----------------------------------------------------

/** The activation of a graph op (or fused op), by its TensorFlow name, as a forward pass. */
function graphActivation(op: string, node: LrpGraphNode, alpha?: tf.Tensor): { name: string; apply: (x: tf.Tensor) => tf.Tensor } {
  switch (op.toLowerCase()) {
    case 'relu':
      return { name: 'relu', apply: (x) => tf.relu(x) };
    case 'relu6':
      return { name: 'relu6', apply: (x) => tf.relu6(x) };
    case 'elu':
      return { name: 'elu', apply: (x) => tf.elu(x) };
    case 'selu':
      return { name: 'selu', apply: (x) => tf.selu(x) };
    case 'sigmoid':
      return { name: 'sigmoid', apply: (x) => tf.sigmoid(x) };
    case 'tanh':
      return { name: 'tanh', apply: (x) => tf.tanh(x) };
    case 'softplus':
      return { name: 'softplus', apply: (x) => tf.softplus(x) };
    case 'leakyrelu': {
      const a = Number(node.attributes.leakyrelu_alpha ?? node.attributes.alpha ?? 0.2);
      return { name: 'leakyrelu', apply: (x) => tf.leakyRelu(x, a) };
    }
    case 'prelu':
      if (!alpha) throw new GlassboxModelError(`lrp: node "${node.name}" (op ${node.op}) has a PReLU without its constant alpha`);
      return { name: 'prelu', apply: (x) => tf.prelu(x, alpha) };
    case 'softmax':
      return { name: 'softmax', apply: (x) => tf.softmax(x) };
    default:
      throw new GlassboxModelError(`lrp: node "${node.name}" (op ${node.op}) applies activation ${op}, which LRP does not know`);
  }
}

/** A linear node: the linear step with its bias (fused BiasAdd), then its fused activation. */
function linearNode(
  node: LrpGraphNode,
  builder: LrpBuilder,
  x: number,
  linear: Omit<LrpStepSpec, 'inputs' | 'parameters'> & { weight: tf.Tensor },
  fused: boolean,
): number {
  let bias: tf.Tensor | null = null;
  let activation: string | null = null;
  let alpha: tf.Tensor | undefined;
  if (fused) {
    const ops = attribute<string[]>(node, 'fused_ops', []);
    const args = node.inputs.slice(2);
    const [extra, ...rest] = ops;
    if (extra === 'BiasAdd') {
      bias = args[0] ?? null;
      if (!bias) throw new GlassboxModelError(`lrp: node "${node.name}" (op ${node.op}) has a computed bias; LRP needs constant weights`);
      activation = rest[0] ?? null;
      alpha = args[1] ?? undefined;
    } else if (extra === 'FusedBatchNorm') {
      throw new GlassboxModelError(`lrp: node "${node.name}" (op ${node.op}) fuses a FusedBatchNorm, which tfjs does not run either`);
    } else {
      activation = extra ?? null;
      alpha = args[0] ?? undefined;
    }
  }
  const { weight, ...step } = linear;
  const z = builder.add({ ...step, inputs: [x], parameters: { weight, bias } });
  if (activation === null) return z;
  const { name, apply } = graphActivation(activation, node, alpha);
  return builder.add({ inputs: [z], kind: 'activation', part: 'activation', className: 'Activation', activation: name, forward: ([v]) => apply(v) });
}

function conv2dNode(fused: boolean): LrpOpSpec {
  return {
    expand(node, builder, inputs) {
      assertNhwc(node);
      const strides = spatial(attribute(node, 'strides'));
      const dilations = spatial(attribute(node, 'dilations', [1, 1, 1, 1]));
      const pad = padding(node);
      return linearNode(
        node,
        builder,
        inputs[0]!,
        {
          kind: 'conv',
          weight: constantInput(node, 1, 'filter'),
          forward: ([x], p) => conv2dForward(x as tf.Tensor4D, p!.weight as tf.Tensor4D, p!.bias, strides, pad, dilations),
          transpose: transposeOfConv2d(strides, pad, dilations),
          scaleOutputs: scaleLastAxis,
        },
        fused,
      );
    },
  };
}

function depthwiseNode(fused: boolean): LrpOpSpec {
  return {
    expand(node, builder, inputs) {
      assertNhwc(node);
      const strides = spatial(attribute(node, 'strides'));
      const dilations = spatial(attribute(node, 'dilations', [1, 1, 1, 1]));
      const { parameters, ...step } = depthwiseStep(constantInput(node, 1, 'filter'), null, strides, padding(node), dilations);
      return linearNode(node, builder, inputs[0]!, { ...step, weight: parameters.weight }, fused);
    },
  };
}

function matMulNode(fused: boolean): LrpOpSpec {
  return {
    expand(node, builder, inputs) {
      const transposeA = Boolean(node.attributes.transpose_a ?? node.attributes.adj_x);
      const transposeB = Boolean(node.attributes.transpose_b ?? node.attributes.adj_y);
      if (inputs[1] !== null && !fused) return productNode(node, builder, inputs, (a, b) => tf.matMul(transposeA ? transposeLastTwo(a) : a, b, false, transposeB));
      if (transposeA || inputs[0] === null) throw new GlassboxModelError(`lrp: node "${node.name}" (op ${node.op}) multiplies a constant from the left; LRP supports x·W`);
      const weight = constantInput(node, 1, 'weight');
      return linearNode(
        node,
        builder,
        inputs[0],
        {
          kind: 'dense',
          weight,
          forward: ([x], p) => addBias(tf.matMul(x, p!.weight, false, transposeB), p!.bias),
          transpose: weight.rank === 2 ? transposeOfDense(transposeB) : undefined,
          // Output units: the last axis of W, or the first when W is stored transposed.
          scaleOutputs: transposeB ? (w, s) => tf.mul(w, tf.reshape(s, [-1, 1])) : scaleLastAxis,
        },
        fused,
      );
    },
  };
}

/** A product of computed inputs (SignalTakeAll; gates are marked by the canonizers). */
function productNode(node: LrpGraphNode, builder: LrpBuilder, inputs: readonly (number | null)[], forward: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor): number {
  return builder.add({ inputs: computed(inputs), kind: 'multiply', forward: withConstants(node, ([a, b]) => forward(a, b)) });
}

// --- element-wise ops: affine with a constant, merges otherwise ----------------------------------

/** A constant that is a scalar or varies along the last axis only, as a scalar or a vector; else `null`. */
function perChannel(value: tf.Tensor): tf.Tensor | null {
  if (value.size === 1) return tf.reshape(value, []);
  return value.shape.slice(0, -1).every((d) => d === 1) ? tf.reshape(value, [value.shape[value.rank - 1]]) : null;
}

/**
 * Add/AddV2/Sub/Mul/RealDiv/BiasAdd of a computed tensor and a constant: an affine step with its
 * scale and shift (when the constant is per channel); of two computed tensors: a sum or a product.
 */
function elementwiseNode(kind: 'add' | 'sub' | 'mul' | 'div'): LrpOpSpec {
  const apply = { add: tf.add, sub: tf.sub, mul: tf.mul, div: tf.div }[kind];
  return {
    forward: ([a, b]) => apply(a, b),
    expand(node, builder, inputs) {
      const forward = withConstants(node, ([a, b]) => apply(a, b));
      const variable = computed(inputs);
      if (variable.length > 1) {
        if (kind === 'mul') return productNode(node, builder, inputs, (a, b) => tf.mul(a, b));
        if (kind === 'div') throw new GlassboxModelError(`lrp: node "${node.name}" (op ${node.op}) divides two computed tensors; LRP supports division by a constant`);
        return builder.add({ inputs: variable, kind: 'add', forward });
      }
      const constantFirst = inputs[0] === null;
      const value = node.inputs[constantFirst ? 0 : 1]!;
      return builder.add({ inputs: variable, kind: 'affine', forward, affine: affineOf(kind, value, constantFirst, builder) });
    },
  };
}

/** `y = x·scale + shift` for `x ∘ c` (or `c ∘ x`), when `c` is per channel. */
function affineOf(kind: 'add' | 'sub' | 'mul' | 'div', value: tf.Tensor, constantFirst: boolean, builder: LrpBuilder): AffineParameters | undefined {
  const c = perChannel(value);
  if (c === null || (kind === 'div' && constantFirst)) {
    c?.dispose();
    return undefined;
  }
  builder.own(c);
  switch (kind) {
    case 'add':
      return { scale: null, shift: c };
    case 'sub':
      return constantFirst ? { scale: builder.own(tf.scalar(-1)), shift: c } : { scale: null, shift: builder.own(tf.neg(c)) };
    case 'mul':
      return { scale: c, shift: null };
    case 'div':
      return { scale: builder.own(tf.div(1, c)), shift: null };
  }
}

/** Maximum/Minimum: with a constant a clipping activation, of two computed tensors winner-takes-all. */
function extremumNode(op: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor): LrpOpSpec {
  return {
    forward: ([a, b]) => op(a, b),
    expand(node, builder, inputs) {
      const variable = computed(inputs);
      const forward = withConstants(node, ([a, b]) => op(a, b));
      return builder.add(variable.length > 1 ? { inputs: variable, kind: 'maxpool', forward } : { inputs: variable, kind: 'activation', activation: 'clip', forward });
    },
  };
}

/** FusedBatchNorm(V3) at inference: an affine map per channel. */
const fusedBatchNorm: LrpOpSpec = {
  expand(node, builder, inputs) {
    assertNhwc(node);
    const [scale, offset, mean, variance] = [1, 2, 3, 4].map((k) => constantInput(node, k, ['scale', 'offset', 'mean', 'variance'][k - 1]));
    const epsilon = Number(node.attributes.epsilon ?? 1e-3);
    const affine = tf.tidy(() => {
      const s = tf.mul(scale, tf.rsqrt(tf.add(variance, epsilon)));
      return { scale: s, shift: tf.sub(offset, tf.mul(mean, s)) };
    });
    builder.own(affine.scale);
    builder.own(affine.shift);
    return builder.add({ inputs: [inputs[0]!], kind: 'batchnorm', forward: ([x]) => tf.add(tf.mul(x, affine.scale), affine.shift), affine });
  },
};

const pool = (node: LrpGraphNode) => {
  assertNhwc(node);
  return { size: spatial(attribute(node, 'ksize')), strides: spatial(attribute(node, 'strides')), pad: String(attribute(node, 'padding')).toLowerCase() as 'same' | 'valid' };
};

const maxPool: LrpOpSpec = {
  kind: 'maxpool',
  forward: ([x], node) => {
    const { size, strides, pad } = pool(node);
    return tf.maxPool(x as tf.Tensor4D, size, strides, pad);
  },
};

const avgPool: LrpOpSpec = {
  kind: 'avgpool',
  forward: ([x], node) => {
    const { size, strides, pad } = pool(node);
    return tf.avgPool(x as tf.Tensor4D, size, strides, pad);
  },
};

/** An activation op, its alpha (PReLU) a constant second input. */
function activationNode(op: string): LrpOpSpec {
  return {
    expand(node, builder, inputs) {
      const { name, apply } = graphActivation(op, node, node.inputs[1] ?? undefined);
      return builder.add({ inputs: [inputs[0]!], kind: 'activation', activation: name, forward: ([x]) => apply(x) });
    },
  };
}

/** Reads a small constant (axes, shapes, paddings) once, at compile time. */
function constantValues(node: LrpGraphNode, k: number, what: string): number[] {
  return Array.from(constantInput(node, k, what).dataSync());
}

/** A routing op with constant arguments, run by `forward(x, node)` on its first input. */
function routing(kind: LayerKind, forward: (x: tf.Tensor, node: LrpGraphNode, constants: number[][]) => tf.Tensor, constantArguments: number[] = []): LrpOpSpec {
  return {
    forward: (xs, node) => forward(xs[0], node, constantArguments.map((k) => Array.from(xs[k].dataSync()))),
    expand(node, builder, inputs) {
      const constants = constantArguments.map((k) => constantValues(node, k, 'argument'));
      return builder.add({ inputs: [inputs[0]!], kind, forward: ([x]) => forward(x, node, constants) });
    },
  };
}

const paddings = (values: number[]): [number, number][] => Array.from({ length: values.length / 2 }, (_, i) => [values[2 * i], values[2 * i + 1]]);

const concat: LrpOpSpec = {
  forward: (xs) => tf.concat(xs.slice(0, -1), xs[xs.length - 1].dataSync()[0]),
  expand(node, builder, inputs) {
    const axis = constantValues(node, node.inputs.length - 1, 'axis')[0];
    const valueNode: LrpGraphNode = { ...node, inputs: node.inputs.slice(0, -1) };
    return builder.add({ inputs: computed(inputs.slice(0, -1)), kind: 'concatenate', forward: withConstants(valueNode, (xs) => tf.concat(xs, axis)) });
  },
};

/**
 * Registers the descriptions of the TensorFlow ops LRP knows. Called once by the GraphModel compiler
 * (an explicit call rather than a side-effect import, so that bundlers keep it).
 */
export function registerBuiltInOps(): void {
  registerLrpOp('Conv2D', conv2dNode(false));
  registerLrpOp('_FusedConv2D', conv2dNode(true));
  registerLrpOp('DepthwiseConv2dNative', depthwiseNode(false));
  registerLrpOp('DepthwiseConv2d', depthwiseNode(false));
  registerLrpOp('FusedDepthwiseConv2dNative', depthwiseNode(true));
  registerLrpOp('MatMul', matMulNode(false));
  registerLrpOp('BatchMatMul', matMulNode(false));
  registerLrpOp('BatchMatMulV2', matMulNode(false));
  registerLrpOp('_FusedMatMul', matMulNode(true));
  registerLrpOp('Add', elementwiseNode('add'));
  registerLrpOp('AddV2', elementwiseNode('add'));
  registerLrpOp('BiasAdd', elementwiseNode('add'));
  registerLrpOp('Sub', elementwiseNode('sub'));
  registerLrpOp('Mul', elementwiseNode('mul'));
  registerLrpOp('RealDiv', elementwiseNode('div'));
  registerLrpOp('AddN', { kind: 'add', forward: (xs) => tf.addN(xs) });
  registerLrpOp('Maximum', extremumNode((a, b) => tf.maximum(a, b)));
  registerLrpOp('Minimum', extremumNode((a, b) => tf.minimum(a, b)));
  for (const op of ['FusedBatchNorm', 'FusedBatchNormV2', 'FusedBatchNormV3']) registerLrpOp(op, fusedBatchNorm);
  for (const op of ['Relu', 'Relu6', 'Elu', 'Selu', 'Sigmoid', 'Tanh', 'Softplus', 'LeakyRelu', 'Prelu', 'Softmax']) registerLrpOp(op, activationNode(op));
  registerLrpOp('MaxPool', maxPool);
  registerLrpOp('AvgPool', avgPool);
  registerLrpOp('Mean', routing('avgpool', (x, node, [axes]) => tf.mean(x, axes, Boolean(node.attributes.keep_dims)), [1]));
  registerLrpOp('Sum', routing('avgpool', (x, node, [axes]) => tf.sum(x, axes, Boolean(node.attributes.keep_dims)), [1]));
  registerLrpOp('Reshape', routing('structural', (x, _node, [shape]) => tf.reshape(x, shape), [1]));
  registerLrpOp(
    'Squeeze',
    routing('structural', (x, node) => {
      const axes = attribute<number[]>(node, 'squeeze_dims', []);
      return tf.squeeze(x, axes.length > 0 ? axes : undefined);
    }),
  );
  registerLrpOp('ExpandDims', routing('structural', (x, _node, [axis]) => tf.expandDims(x, axis[0]), [1]));
  registerLrpOp('Transpose', routing('structural', (x, _node, [perm]) => tf.transpose(x, perm), [1]));
  registerLrpOp('Pad', routing('structural', (x, _node, [p]) => tf.pad(x, paddings(p)), [1]));
  registerLrpOp('PadV2', routing('structural', (x, _node, [p, value]) => tf.pad(x, paddings(p), value[0]), [1, 2]));
  registerLrpOp('ConcatV2', concat);
}
