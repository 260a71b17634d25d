/**
 * The logit behind a probability output: DeepLift (like LRP) explains the score before a final softmax or
 * sigmoid, as Captum's and Zennit's users expect (REFERENCE.md, "Outputs that are probabilities"). What
 * is left out, for the explained output only:
 *
 * - **LayersModels**: the layer producing the output (looked up inside nested models) when it is an
 *   `Activation` layer with `'softmax'` or `'sigmoid'`, or a `Softmax` layer: the output is that layer's
 *   input; when it is any other layer whose `activation` is `'softmax'` or `'sigmoid'` (Dense, Conv, …):
 *   the output is the layer's pre-activation, computed by a twin of the layer with a linear activation
 *   that shares the layer's weights (no copy). The model runs through the package's graph runner.
 * - **GraphModels**: when the output node (after Identity-like nodes) is a `Softmax` or `Sigmoid` op, the
 *   model is executed up to the node that feeds it. A softmax or sigmoid fused into the last node (a
 *   `_FusedMatMul` with `fused_ops: [BiasAdd, Sigmoid]`) cannot be left out and is an error.
 * - **Functions** and objects with `predict` are taken as they are.
 * @module
 */
import type * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { needsUnfusedCall, unfusedConvolutionCall } from '../core/backend-gaps';
import { GlassboxModelError } from '../core/errors';
import { applications, type LayerTap } from '../core/layers-graph';
import { resolveModel, type ModelLike, type ResolvedModel } from '../core/model';
import { decodeAttributes, isGraphModel, nodeName, parseInputReference, readGraph, type GraphDefNode, type GraphModelLike } from './lrp/graph-model-source';

type Layer = tfl.layers.Layer;

/** A probability activation a model may end with. */
export type ProbabilityActivation = 'softmax' | 'sigmoid';

/** A model whose explained output is taken before a final softmax or sigmoid. */
export interface LogitModel {
  /** The model with its explained output before the final activation (the model itself if there is none). */
  readonly model: ResolvedModel;
  /** The activation left out, or `null`. */
  readonly stripped: ProbabilityActivation | null;
  /** Frees what the stripping built (a twin layer's variables); the model stays usable. */
  dispose(): void;
}

/** Ops that pass their input on unchanged (what a converted graph ends with after its last real op). */
const IDENTITY_OPS = new Set(['Identity', 'IdentityN', 'Snapshot', 'StopGradient', 'PreventGradient']);
/** Ops that end a graph with a fused activation. */
const FUSED_OPS = new Set(['_FusedMatMul', '_FusedConv2D', 'FusedDepthwiseConv2dNative', '_FusedDepthwiseConv2dNative']);

/**
 * `resolved` (the call's model, resolved from `source`) with its explained output taken before a final
 * softmax or sigmoid; see the module description for what is left out.
 */
export async function logitModel(source: ModelLike, resolved: ResolvedModel): Promise<LogitModel> {
  if (resolved.kind === 'layers') return layersLogit(resolved);
  if (resolved.kind === 'graph' && isGraphModel(source)) return graphLogit(source, resolved);
  return unchanged(resolved);
}

function unchanged(model: ResolvedModel): LogitModel {
  return { model, stripped: null, dispose: () => undefined };
}

function probabilityActivation(name: unknown): ProbabilityActivation | null {
  return name === 'softmax' || name === 'sigmoid' ? name : null;
}

/** The layer that computes output `index` of `model`, looked up inside nested models, with its node index. */
function outputLayer(model: tfl.LayersModel, index: number): { layer: Layer; nodeIndex: number } {
  let tensor = model.outputs[index];
  while (tensor.sourceLayer instanceof tfl.LayersModel) tensor = tensor.sourceLayer.outputs[tensor.tensorIndex];
  return { layer: tensor.sourceLayer as Layer, nodeIndex: tensor.nodeIndex };
}

function layersLogit(resolved: ResolvedModel): LogitModel {
  const model = resolved.layersModel!;
  const { layer, nodeIndex } = outputLayer(model, resolved.outputIndex ?? 0);
  const className = layer.getClassName();
  const stripped = className === 'Softmax' ? 'softmax' : probabilityActivation(layer.getConfig().activation);
  if (stripped === null) return unchanged(resolved);
  if (applications(model, layer) !== 1) {
    throw new GlassboxModelError(
      `the output layer "${layer.name}" ends with a ${stripped} and runs more than once in the model; ` +
        'DeepLift explains the score before it and cannot leave it out of one application only',
    );
  }
  const twin = className === 'Activation' || className === 'Softmax' ? null : linearTwin(layer, nodeIndex);
  const preActivation = (inputs: readonly tf.Tensor[]): tf.Tensor => (twin === null ? inputs[0] : twin.apply(inputs[0]));
  const stripping = (tap: LayerTap): LayerTap => (l, value, inputs) => tap(l, l === layer ? preActivation(inputs) : value, inputs);
  const forwardTapped = (inputs: readonly tf.Tensor[], tap: LayerTap): tf.Tensor => resolved.forwardTapped!(inputs, stripping(tap));
  return {
    model: { ...resolved, forward: (inputs) => forwardTapped(inputs, (_l, value) => value), forwardTapped },
    stripped,
    dispose: () => twin?.dispose(),
  };
}

/**
 * A layer of the same class and configuration as `layer`, with a linear activation, built for the
 * layer's input and sharing its weights (tfjs variables assigned from the layer's share their data).
 */
function linearTwin(layer: Layer, nodeIndex: number): { apply(x: tf.Tensor): tf.Tensor; dispose(): void } {
  const { name: _name, ...config } = layer.getConfig();
  const LayerClass = layer.constructor as new (args: Record<string, unknown>) => Layer;
  const twin = new LayerClass({ ...config, activation: 'linear', trainable: false });
  const input = layer.getInputAt(nodeIndex);
  if (Array.isArray(input)) throw new GlassboxModelError(`the output layer "${layer.name}" reads several tensors; its ${String(config.activation)} cannot be left out`);
  twin.build(input.shape);
  twin.setWeights(layer.getWeights());
  return {
    apply: (x) => (needsUnfusedCall(twin) ? unfusedConvolutionCall(twin, x) : (twin.call(x, { training: false }) as tf.Tensor)),
    dispose: () => twin.weights.forEach((w) => w.dispose()),
  };
}

/** The parts of a tfjs-converter GraphModel that running it up to an inner node needs. */
interface ExecutableGraphModel extends GraphModelLike {
  readonly inputNodes: string[];
  execute(inputs: tf.NamedTensorMap, outputs: string): tf.Tensor | tf.Tensor[];
}

async function graphLogit(source: GraphModelLike, resolved: ResolvedModel): Promise<LogitModel> {
  const graph = await readGraph(source);
  const nodes = new Map(graph.nodes.map((n) => [n.name, n]));
  let node = nodes.get(graph.outputs[resolved.outputIndex ?? 0]);
  while (node !== undefined && IDENTITY_OPS.has(node.op)) node = producer(node, nodes);
  if (node === undefined) return unchanged(resolved);
  const stripped = node.op === 'Softmax' ? 'softmax' : node.op === 'Sigmoid' ? 'sigmoid' : null;
  if (stripped === null) {
    const fused = FUSED_OPS.has(node.op) ? fusedProbability(node) : null;
    if (fused !== null) {
      throw new GlassboxModelError(
        `the GraphModel's output node "${node.name}" (${node.op}) has a ${fused} fused into it; DeepLift explains the score ` +
          'before it and cannot leave a fused activation out. Convert the model without fusing its last activation, or pass a ' +
          'function that returns the logits',
      );
    }
    return unchanged(resolved);
  }
  const logits = (node.input ?? []).find((reference) => !reference.startsWith('^'))!;
  const model = source as ExecutableGraphModel;
  // The GraphModel seen through a view whose one output is the node feeding the softmax or sigmoid.
  const view = {
    inputs: model.inputs,
    inputNodes: model.inputNodes,
    outputs: [{ name: logits }],
    outputNodes: [logits],
    weights: model.weights,
    execute: (feed: tf.NamedTensorMap) => model.execute(feed, logits),
    predict: (feed: tf.NamedTensorMap) => model.execute(feed, logits),
  };
  return { model: resolveModel(view as unknown as ModelLike), stripped, dispose: () => undefined };
}

/** The node whose output `node` reads first. */
function producer(node: GraphDefNode, nodes: Map<string, GraphDefNode>): GraphDefNode | undefined {
  const reference = (node.input ?? []).map(parseInputReference).find((r) => r !== null);
  return reference ? nodes.get(nodeName(reference.node)) : undefined;
}

/** The softmax or sigmoid fused into a node (`fused_ops`), if any. */
function fusedProbability(node: GraphDefNode): ProbabilityActivation | null {
  const ops = decodeAttributes(node.attr).fused_ops;
  if (!Array.isArray(ops)) return null;
  const names = ops.map((op) => String(op).toLowerCase());
  return names.includes('softmax') ? 'softmax' : names.includes('sigmoid') ? 'sigmoid' : null;
}
