/**
 * Activations of named inner layers of a tfjs LayersModel and the gradients of the target score with
 * respect to them, for class-activation maps.
 *
 * The model is split with its own graph, not rebuilt: starting from the model's output, the layers'
 * inbound nodes give every node the output depends on, in execution order (Sequential and functional
 * models alike, skip connections and nested models included). The nodes are then run on concrete
 * tensors the way tfjs's own executor does (`layer.call` with each node's call arguments and masks),
 * with one change: the output `A_l` of each requested layer becomes `A_l + δ_l` with `δ_l = 0`. The
 * gradient of the score with respect to `δ_l` is `∂f_c/∂A_l`, the total derivative through every path
 * downstream of the layer, for all requested layers in one backward pass. A nested model (a
 * LayersModel used as a layer) that contains a requested layer is run node by node the same way, so
 * its inner layers can be tapped by their own names. {@link tappedActivations} is the forward pass
 * alone.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { withBackendGapFixesSync } from '../core/backend-gaps';
import { describeValue, GlassboxArgumentError } from '../core/errors';
import type { TargetSelector } from '../core/target';

type Layer = tfl.layers.Layer;
type GraphNode = Layer['inboundNodes'][number];

/** A LayersModel's graph, ready to run with taps on some layers' outputs. */
export interface TappedGraph {
  /** Execution order of the nodes the model output depends on. */
  order: GraphNode[];
  /** The nodes whose outputs are tapped, in the order the layer names were given. */
  taps: GraphNode[];
  model: tfl.LayersModel;
  /** Nested models that contain a tapped layer, with the execution order of their own graph. */
  nested: Map<Layer, GraphNode[]>;
}

/**
 * Finds the layers named `names` in `model`'s graph. Errors name the argument and list the valid layer
 * names when one does not exist.
 */
export function tapLayers(model: tfl.LayersModel, names: string[], argument: string): TappedGraph {
  assertSingleInputOutput(model, 'model');
  const order = executionOrder(model.outputs[0]);
  const nested = new Map<Layer, GraphNode[]>();
  const taps = names.map((name, i) => {
    const where = names.length === 1 ? argument : `${argument}[${i}]`;
    if (typeof name !== 'string') throw new GlassboxArgumentError(where, `expected a layer name, got ${describeValue(name)}`);
    const path = findLayer(model, name);
    if (path === null) {
      throw new GlassboxArgumentError(
        where,
        `the model has no layer named ${JSON.stringify(name)} (input layers excluded); its layers are: ${layerNames(model).join(', ')}`,
      );
    }
    // Walk down the nested models on the way to the layer: each must be applied once in its parent.
    let graphOrder = order;
    for (const container of path.slice(0, -1)) {
      singleNode(graphOrder, container, where, `nested model ${JSON.stringify(container.name)}`);
      assertSingleInputOutput(container as tfl.LayersModel, where);
      if (!nested.has(container)) nested.set(container, executionOrder((container as tfl.LayersModel).outputs[0]));
      graphOrder = nested.get(container)!;
    }
    return singleNode(graphOrder, path[path.length - 1], where, `layer ${JSON.stringify(name)}`);
  });
  return { order, taps, model, nested };
}

/**
 * Outputs of the tapped layers for the batch `x`: a forward pass only (no gradient), with the layers'
 * inference behaviour. The caller owns the results; nothing leaks when the model throws.
 */
export function tappedActivations(graph: TappedGraph, x: tf.Tensor): tf.Tensor[] {
  const captured: tf.Tensor[] = [];
  try {
    tf.tidy(() => {
      runGraph(graph, x, (node, value) => {
        const i = graph.taps.indexOf(node);
        if (i >= 0) captured[i] = tf.keep(value);
        return value;
      });
    });
  } catch (error) {
    captured.forEach((t) => t?.dispose());
    throw error;
  }
  return captured;
}

function assertSingleInputOutput(model: tfl.LayersModel, argument: string): void {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new GlassboxArgumentError(
      argument,
      `expected a model with one input and one output, got ${model.inputs.length} inputs and ${model.outputs.length} outputs` +
        (argument === 'model' ? '' : ` (nested model ${JSON.stringify(model.name)})`),
    );
  }
}

/** The layer named `name` with the nested models that lead to it (outermost first), or null. */
function findLayer(model: tfl.LayersModel, name: string): Layer[] | null {
  for (const layer of model.layers) {
    if (layer.getClassName() === 'InputLayer') continue;
    if (layer.name === name) return [layer];
  }
  for (const layer of model.layers) {
    if (!(layer instanceof tfl.LayersModel)) continue;
    const inner = findLayer(layer, name);
    if (inner !== null) return [layer, ...inner];
  }
  return null;
}

/** Names of all non-input layers, nested models' layers included. */
function layerNames(model: tfl.LayersModel): string[] {
  return model.layers.flatMap((layer) => {
    if (layer.getClassName() === 'InputLayer') return [];
    return layer instanceof tfl.LayersModel ? [layer.name, ...layerNames(layer)] : [layer.name];
  });
}

/** The one node of `layer` in a graph's execution order, with one output tensor. */
function singleNode(order: GraphNode[], layer: Layer, where: string, what: string): GraphNode {
  const nodes = order.filter((node) => node.outboundLayer === layer);
  if (nodes.length !== 1 || nodes[0].outputTensors.length !== 1) {
    throw new GlassboxArgumentError(
      where,
      nodes.length === 0
        ? `${what} does not feed the model's output`
        : `${what} must be applied once and give one output tensor to be explained`,
    );
  }
  return nodes[0];
}

/** Activations `A_l` of the tapped layers and gradients `∂Σ_rows f_c/∂A_l`, one pair per tap. */
export interface LayerGradients {
  activations: tf.Tensor[];
  gradients: tf.Tensor[];
}

/**
 * Runs the graph on `x` (rows of examples `examples`) and differentiates the sum of the target scores
 * with respect to every tapped layer's output (with the backend-gap fixes installed for the gradient
 * computation). The caller owns the results; nothing leaks when the model or the target throws.
 */
export function layerGradients(graph: TappedGraph, x: tf.Tensor, target: TargetSelector, examples: Int32Array): LayerGradients {
  const shapes = activationShapes(graph, x);
  const captured: tf.Tensor[] = [];
  // An error thrown inside a taped function would leave tfjs's saved tensors behind: it is caught
  // there, a value connected to every δ is returned so tfjs completes and frees the tape, and it is
  // rethrown afterwards (the same pattern as the core's input gradient).
  let failure: { error: unknown } | null = null;
  const gradients = tf.tidy(() => {
    const deltas = shapes.map((shape) => tf.zeros(shape));
    return withBackendGapFixesSync(() =>
      tf.grads((...d: tf.Tensor[]) => {
        // `0·Σδ` keeps every δ on the tape, whatever the score does.
        const anchor = tf.mul(tf.addN(d.map((delta) => tf.sum(delta))), 0);
        try {
          const output = runGraph(graph, x, (node, value) => {
            const i = graph.taps.indexOf(node);
            if (i < 0) return value;
            captured[i] = tf.keep(value);
            return tf.add(value, d[i]);
          });
          return tf.add(tf.sum(target.select(output, examples)), anchor);
        } catch (error) {
          failure = { error };
          return anchor;
        }
      })(deltas),
    );
  });
  if (failure !== null) {
    [...captured, ...gradients].forEach((t) => t?.dispose());
    throw (failure as { error: unknown }).error;
  }
  return { activations: captured, gradients };
}

/** Output shapes of the tapped layers for `x` (a forward pass when the symbolic shape is not fixed). */
function activationShapes(graph: TappedGraph, x: tf.Tensor): number[][] {
  const symbolic = graph.taps.map((node) => node.outputTensors[0].shape.slice(1));
  if (symbolic.every((shape) => shape.every((d) => d !== null))) {
    return symbolic.map((shape) => [x.shape[0], ...(shape as number[])]);
  }
  const shapes: number[][] = [];
  tf.tidy(() => {
    runGraph(graph, x, (node, value) => {
      const i = graph.taps.indexOf(node);
      if (i >= 0) shapes[i] = value.shape;
      return value;
    });
  });
  return shapes;
}

/** Nodes that `output` depends on, each after its inputs (depth-first from the output). */
function executionOrder(output: tfl.SymbolicTensor): GraphNode[] {
  const order: GraphNode[] = [];
  const seen = new Set<GraphNode>();
  const visit = (tensor: tfl.SymbolicTensor): void => {
    const node = tensor.sourceLayer.inboundNodes[tensor.nodeIndex];
    if (seen.has(node)) return;
    seen.add(node);
    if (!isInputNode(node)) node.inputTensors.forEach(visit);
    order.push(node);
  };
  visit(output);
  return order;
}

function isInputNode(node: GraphNode): boolean {
  return node.inboundLayers.length === 0;
}

/**
 * Runs the nodes on concrete tensors as tfjs's executor does (`layer.call` with the node's call
 * arguments; masks propagated with `computeMask`), passing each node's output through `tap`.
 */
function runGraph(graph: TappedGraph, x: tf.Tensor, tap: (node: GraphNode, value: tf.Tensor) => tf.Tensor): tf.Tensor {
  return runNodes(graph, graph.order, graph.model, x, tap);
}

/** Runs the nodes `order` of `model`'s graph (the top level, or a nested model containing taps). */
function runNodes(
  graph: TappedGraph,
  order: GraphNode[],
  model: tfl.LayersModel,
  x: tf.Tensor,
  tap: (node: GraphNode, value: tf.Tensor) => tf.Tensor,
): tf.Tensor {
  type Value = { tensor: tf.Tensor; mask: tf.Tensor | null };
  const values = new Map<number, Value>();
  for (const node of order) {
    if (isInputNode(node)) {
      values.set(node.outputTensors[0].id, { tensor: x, mask: null });
      continue;
    }
    const inputs = node.inputTensors.map((t) => values.get(t.id)!);
    const single = inputs.length === 1;
    const tensors = single ? inputs[0].tensor : inputs.map((v) => v.tensor);
    const masks = single ? inputs[0].mask : inputs.map((v) => v.mask);
    const layer = node.outboundLayer;
    const inner = graph.nested.get(layer);
    if (inner !== undefined) {
      const output = runNodes(graph, inner, layer as tfl.LayersModel, tensors as tf.Tensor, tap);
      values.set(node.outputTensors[0].id, { tensor: tap(node, output), mask: null });
      continue;
    }
    const kwargs: Record<string, unknown> = { ...(node.callArgs ?? {}) };
    if (kwargs.mask == null && (single ? masks !== null : (masks as (tf.Tensor | null)[]).some((m) => m !== null))) {
      kwargs.mask = masks;
    }
    const outputs = toList(layer.call(tensors, kwargs as Parameters<Layer['call']>[1]));
    const outputMasks = toList(layer.computeMask(tensors, masks as tf.Tensor | tf.Tensor[]));
    node.outputTensors.forEach((t, i) => values.set(t.id, { tensor: tap(node, outputs[i]), mask: outputMasks[i] ?? null }));
  }
  return values.get(model.outputs[0].id)!.tensor;
}

function toList(value: tf.Tensor | tf.Tensor[] | null | undefined): tf.Tensor[] {
  if (value == null) return [];
  return Array.isArray(value) ? value : [value];
}
