/** Small hand-written TensorFlow GraphDefs, loaded as tfjs-converter GraphModels, for the LRP tests. */
import * as tf from '@tensorflow/tfjs-core';
import * as tfc from '@tensorflow/tfjs-converter';
import { seededTensor } from '../helpers';

/** GraphDef attribute values as JSON. */
export const attr = {
  ints: (values: number[]) => ({ list: { i: values.map(String) } }),
  int: (value: number) => ({ i: String(value) }),
  float: (value: number) => ({ f: value }),
  bool: (value: boolean) => ({ b: value }),
  str: (value: string) => ({ s: btoa(value) }),
  strs: (values: string[]) => ({ list: { s: values.map((v) => btoa(v)) } }),
};

/** A GraphModel loaded from memory. */
export type MemoryGraphModel = ReturnType<typeof tfc.loadGraphModelSync>;

export interface NodeSpec {
  name: string;
  op: string;
  inputs?: string[];
  attrs?: Record<string, unknown>;
}

/**
 * A GraphModel from nodes and constants (`Const` nodes are made from `constants`); `input` is the
 * placeholder's name and shape (batch `-1`).
 */
export function graphModel(input: { name: string; shape: number[] }, nodes: NodeSpec[], constants: Record<string, tf.Tensor>): MemoryGraphModel {
  const names = Object.keys(constants);
  const dtype = (t: tf.Tensor) => (t.dtype === 'int32' ? 'DT_INT32' : 'DT_FLOAT');
  const constNodes = names.map((name) => ({
    name,
    op: 'Const',
    attr: { value: { tensor: { dtype: dtype(constants[name]), tensorShape: { dim: constants[name].shape.map((d) => ({ size: String(d) })) } } }, dtype: { type: dtype(constants[name]) } },
  }));
  const placeholder = {
    name: input.name,
    op: 'Placeholder',
    attr: { shape: { shape: { dim: input.shape.map((d) => ({ size: String(d) })) } }, dtype: { type: 'DT_FLOAT' } },
  };
  const graphNodes = nodes.map((n) => ({ name: n.name, op: n.op, input: n.inputs ?? [], attr: { T: { type: 'DT_FLOAT' }, ...(n.attrs ?? {}) } }));
  const parts = names.map((name) => constants[name].dataSync() as Float32Array | Int32Array);
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const p of parts) {
    bytes.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), offset);
    offset += p.byteLength;
  }
  return tfc.loadGraphModelSync({
    format: 'graph-model',
    modelTopology: { node: [placeholder, ...constNodes, ...graphNodes], versions: { producer: 1, minConsumer: 0 } },
    weightSpecs: names.map((name) => ({ name, shape: constants[name].shape, dtype: constants[name].dtype as 'float32' | 'int32' })),
    weightData: bytes.buffer,
  });
}

const same = attr.str('SAME');
const valid = attr.str('VALID');
const nhwc = attr.str('NHWC');
const unit = attr.ints([1, 1, 1, 1]);

/**
 * A bias-free piecewise-linear conv graph on [N, 6, 6, 2]: Conv2D + BiasAdd(0) → Relu → depthwise →
 * Mul by a per-channel constant → Relu6 → ConcatV2 with the Relu → fused 1×1 conv (BiasAdd 0, Relu) →
 * AddV2 residual → MaxPool → Pad → AvgPool → Reshape → fused MatMul (BiasAdd 0) → Softmax → Identity.
 * Logits: node `logits`.
 */
export function convGraph(seed = 1): MemoryGraphModel {
  const constants: Record<string, tf.Tensor> = {
    w1: seededTensor([3, 3, 2, 4], seed, 0.6),
    b1: tf.zeros([4]),
    d1: seededTensor([3, 3, 4, 1], seed + 1, 0.6),
    s1: tf.add(tf.abs(seededTensor([4], seed + 2)), 0.5),
    w2: seededTensor([1, 1, 8, 8], seed + 3, 0.6),
    b2: tf.zeros([8]),
    axis: tf.scalar(3, 'int32'),
    paddings: tf.tensor2d([[0, 0], [1, 0], [0, 1], [0, 0]], [4, 2], 'int32'),
    shape: tf.tensor1d([-1, 32], 'int32'),
    w3: seededTensor([32, 3], seed + 4, 0.6),
    b3: tf.zeros([3]),
  };
  const conv = (strides: number[], padding: unknown) => ({ strides: attr.ints(strides), padding, data_format: nhwc, dilations: unit });
  const model = graphModel({ name: 'image', shape: [-1, 6, 6, 2] }, [
    { name: 'c1', op: 'Conv2D', inputs: ['image', 'w1'], attrs: conv([1, 1, 1, 1], same) },
    { name: 'b1add', op: 'BiasAdd', inputs: ['c1', 'b1'], attrs: { data_format: nhwc } },
    { name: 'r1', op: 'Relu', inputs: ['b1add'] },
    { name: 'dw', op: 'DepthwiseConv2dNative', inputs: ['r1', 'd1'], attrs: conv([1, 1, 1, 1], same) },
    { name: 'scaled', op: 'Mul', inputs: ['dw', 's1'] },
    { name: 'r2', op: 'Relu6', inputs: ['scaled'] },
    { name: 'cat', op: 'ConcatV2', inputs: ['r1', 'r2', 'axis'], attrs: { N: attr.int(2) } },
    { name: 'c2', op: '_FusedConv2D', inputs: ['cat', 'w2', 'b2'], attrs: { ...conv([1, 1, 1, 1], valid), fused_ops: attr.strs(['BiasAdd', 'Relu']), num_args: attr.int(1) } },
    { name: 'residual', op: 'AddV2', inputs: ['c2', 'cat'] },
    { name: 'mp', op: 'MaxPool', inputs: ['residual'], attrs: { ksize: attr.ints([1, 2, 2, 1]), strides: attr.ints([1, 2, 2, 1]), padding: valid, data_format: nhwc } },
    { name: 'pad', op: 'Pad', inputs: ['mp', 'paddings'] },
    { name: 'ap', op: 'AvgPool', inputs: ['pad'], attrs: { ksize: attr.ints([1, 2, 2, 1]), strides: attr.ints([1, 2, 2, 1]), padding: valid, data_format: nhwc } },
    { name: 'flat', op: 'Reshape', inputs: ['ap', 'shape'] },
    { name: 'logits', op: '_FusedMatMul', inputs: ['flat', 'w3', 'b3'], attrs: { transpose_a: attr.bool(false), transpose_b: attr.bool(false), fused_ops: attr.strs(['BiasAdd']), num_args: attr.int(1) } },
    { name: 'probabilities', op: 'Softmax', inputs: ['logits'] },
    { name: 'Identity', op: 'Identity', inputs: ['probabilities'] },
  ], constants);
  Object.values(constants).forEach((t) => t.dispose());
  return model;
}

/**
 * Conv2D → FusedBatchNormV3 → Relu → Mean over H, W → MatMul (transpose_b) → BiasAdd → Identity, on
 * [N, 4, 4, 2], with biases and batch-norm statistics. (Not a `_FusedMatMul`: tfjs 4.22's wasm backend
 * computes a fused MatMul with both a bias and transpose_b wrongly.)
 */
export function batchNormGraph(seed = 11): MemoryGraphModel {
  const constants: Record<string, tf.Tensor> = {
    w: seededTensor([3, 3, 2, 3], seed, 0.7),
    gamma: tf.add(seededTensor([3], seed + 1, 0.3), 1),
    beta: seededTensor([3], seed + 2, 0.3),
    mean: seededTensor([3], seed + 3, 0.3),
    variance: tf.add(tf.abs(seededTensor([3], seed + 4)), 0.3),
    axes: tf.tensor1d([1, 2], 'int32'),
    dense: seededTensor([2, 3], seed + 5, 0.7),
    bias: seededTensor([2], seed + 6, 0.2),
  };
  const model = graphModel({ name: 'image', shape: [-1, 4, 4, 2] }, [
    { name: 'conv', op: 'Conv2D', inputs: ['image', 'w'], attrs: { strides: attr.ints([1, 1, 1, 1]), padding: same, data_format: nhwc, dilations: unit } },
    { name: 'bn', op: 'FusedBatchNormV3', inputs: ['conv', 'gamma', 'beta', 'mean', 'variance'], attrs: { epsilon: attr.float(0.001), data_format: nhwc, is_training: attr.bool(false) } },
    { name: 'relu', op: 'Relu', inputs: ['bn'] },
    { name: 'pool', op: 'Mean', inputs: ['relu', 'axes'], attrs: { keep_dims: attr.bool(false) } },
    { name: 'product', op: 'MatMul', inputs: ['pool', 'dense'], attrs: { transpose_a: attr.bool(false), transpose_b: attr.bool(true) } },
    { name: 'logits', op: 'BiasAdd', inputs: ['product', 'bias'] },
    { name: 'Identity', op: 'Identity', inputs: ['logits'] },
  ], constants);
  Object.values(constants).forEach((t) => t.dispose());
  return model;
}

/** Logistic regression `σ(x·w)` with w = [0.1, −0.5, 0.2], as MatMul → Sigmoid → Identity. */
export function logisticGraph(): MemoryGraphModel {
  const w = tf.tensor2d([[0.1], [-0.5], [0.2]]);
  const model = graphModel({ name: 'x', shape: [-1, 3] }, [
    { name: 'logit', op: 'MatMul', inputs: ['x', 'w'], attrs: { transpose_a: attr.bool(false), transpose_b: attr.bool(false) } },
    { name: 'probability', op: 'Sigmoid', inputs: ['logit'] },
    { name: 'Identity', op: 'Identity', inputs: ['probability'] },
  ], { w });
  w.dispose();
  return model;
}

/** `x → Neg → MatMul` on [N, 3]: an op LRP does not know until it is registered. */
export function negationGraph(): MemoryGraphModel {
  const w = tf.tensor2d([[0.5, -1], [2, 0.25], [-1, 1]]);
  const model = graphModel({ name: 'x', shape: [-1, 3] }, [
    { name: 'flip', op: 'Neg', inputs: ['x'] },
    { name: 'logits', op: 'MatMul', inputs: ['flip', 'w'], attrs: { transpose_a: attr.bool(false), transpose_b: attr.bool(false) } },
    { name: 'Identity', op: 'Identity', inputs: ['logits'] },
  ], { w });
  w.dispose();
  return model;
}
