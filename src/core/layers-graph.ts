/**
 * The graph of a tfjs LayersModel, read from its own nodes: every piece of code that needs tfjs-layers'
 * internals (`inboundNodes`, `callArgs`, `nodeIndex`, masks) lives in this file, written against
 * tfjs-layers 4.22 and tested with it. Every method runs LayersModels through {@link runLayersModel}.
 *
 * Nested models (a functional or Sequential model used as a layer, e.g. a transfer-learning base) are
 * expanded: their inner layers run one by one, so any layer can be reached by its own name (tfjs layer
 * names are unique). The nodes run on concrete tensors the way tfjs's own executor does (`layer.call`
 * with each node's call arguments, masks propagated with `computeMask`), with an optional tap on every
 * layer's output.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { needsUnfusedCall, unfusedConvolutionCall } from './backend-gaps';
import { describeValue, GlassboxArgumentError } from './errors';

type Layer = tfl.layers.Layer;
type GraphNode = Layer['inboundNodes'][number];

/** Replaces (or observes) the output `value` of `layer` while the graph runs; `inputs` are what the layer read. */
export type LayerTap = (layer: Layer, value: tf.Tensor, inputs: readonly tf.Tensor[]) => tf.Tensor;

/** Every layer of `model`, nested models expanded (a nested model is listed before its layers), input layers excluded. */
export function allLayers(model: tfl.LayersModel): Layer[] {
  return model.layers.flatMap((layer) => {
    if (layer.getClassName() === 'InputLayer') return [];
    return layer instanceof tfl.LayersModel ? [layer, ...allLayers(layer)] : [layer];
  });
}

/**
 * The layer named `name` anywhere in `model` (nested models included). The error names `argument` and
 * lists the valid names.
 */
export function findLayer(model: tfl.LayersModel, name: unknown, argument: string): Layer {
  if (typeof name !== 'string') throw new GlassboxArgumentError(argument, `expected a layer name, got ${describeValue(name)}`);
  const layers = allLayers(model);
  const layer = layers.find((l) => l.name === name);
  if (layer === undefined) {
    const names = layers.map((l) => l.name);
    throw new GlassboxArgumentError(
      argument,
      `the model has no layer named ${JSON.stringify(name)}; its layers are: ${names.slice(0, 60).join(', ')}${names.length > 60 ? ', …' : ''}`,
    );
  }
  return layer;
}

/** How many times `layer` runs in one forward pass of `model` (nested models expanded). */
export function applications(model: tfl.LayersModel, layer: Layer): number {
  let count = 0;
  for (const node of executionOrder(model)) {
    const inner = node.outboundLayer;
    if (inner === layer) count++;
    if (inner instanceof tfl.LayersModel && inner !== layer) count += applications(inner, layer);
  }
  return count;
}

/**
 * The last layer (in execution order, nested models expanded) whose output is `[N, h, w, c]` with more
 * than one spatial cell (`h·w > 1`): the default layer of the class-activation maps. A pooling to
 * `[N, 1, 1, c]` (nsfwjs's MobileNetV2 ends so) is skipped, as its map would be constant. `null` if
 * there is none.
 */
export function lastSpatialLayer(model: tfl.LayersModel): Layer | null {
  let last: Layer | null = null;
  for (const node of executionOrder(model)) {
    const layer = node.outboundLayer;
    if (isInputNode(node)) continue;
    if (layer instanceof tfl.LayersModel) {
      last = lastSpatialLayer(layer) ?? last;
      continue;
    }
    const output = node.outputTensors.length === 1 ? node.outputTensors[0] : null;
    if (output !== null && output.rank === 4 && hasSeveralCells(output.shape)) last = layer;
  }
  return last;
}

/** Whether a symbolic `[N, h, w, c]` shape has more than one spatial cell (unknown sizes count as more). */
function hasSeveralCells(shape: readonly (number | null)[]): boolean {
  const [h, w] = [shape[1], shape[2]];
  return h === null || w === null || h * w > 1;
}

/** The layers that read model input `index` directly (looking into nested models). */
export function inputConsumers(model: tfl.LayersModel, index: number): Layer[] {
  const input = model.inputs[index];
  const consumers: Layer[] = [];
  for (const node of executionOrder(model)) {
    if (isInputNode(node)) continue;
    node.inputTensors.forEach((t, k) => {
      if (t.id !== input.id) return;
      const layer = node.outboundLayer;
      if (layer instanceof tfl.LayersModel) consumers.push(...inputConsumers(layer, k));
      else consumers.push(layer);
    });
  }
  return consumers;
}

/**
 * Runs `model` on `inputs` (one tensor per model input) in inference mode and returns its outputs,
 * passing every layer's output through `tap` (nested models expanded, so inner layers are tapped too).
 */
export function runLayersModel(model: tfl.LayersModel, inputs: readonly tf.Tensor[], tap: LayerTap = (_l, v) => v): tf.Tensor[] {
  return runContainer(model, inputs.map((tensor) => ({ tensor, mask: null })), tap).map((v) => v.tensor);
}

interface Value {
  tensor: tf.Tensor;
  mask: tf.Tensor | null;
}

function runContainer(model: tfl.LayersModel, inputs: Value[], tap: LayerTap): Value[] {
  const values = new Map<number, Value>();
  model.inputs.forEach((input, i) => values.set(input.id, inputs[i]));
  for (const node of executionOrder(model)) {
    if (isInputNode(node)) continue;
    const layerInputs = node.inputTensors.map((t) => values.get(t.id)!);
    const layer = node.outboundLayer;
    const outputs =
      layer instanceof tfl.LayersModel
        ? runContainer(layer, layerInputs, tap).map((v) => ({ tensor: tap(layer, v.tensor, layerInputs.map((i) => i.tensor)), mask: v.mask }))
        : callLayer(node, layerInputs, tap);
    node.outputTensors.forEach((t, i) => values.set(t.id, outputs[i]));
  }
  return model.outputs.map((output) => values.get(output.id)!);
}

/** `layer.call` with the node's call arguments and the inputs' masks, as tfjs's executor does. */
function callLayer(node: GraphNode, inputs: Value[], tap: LayerTap): Value[] {
  const single = inputs.length === 1;
  const tensors = single ? inputs[0].tensor : inputs.map((v) => v.tensor);
  const masks = single ? inputs[0].mask : inputs.map((v) => v.mask);
  const kwargs: Record<string, unknown> = { ...(node.callArgs ?? {}), training: false };
  if (kwargs.mask == null && (single ? masks !== null : (masks as (tf.Tensor | null)[]).some((m) => m !== null))) kwargs.mask = masks;
  const layer = node.outboundLayer;
  // tfjs keeps a dilated convolution fused under a tape, and the fused op's gradient refuses dilation.
  const outputs = needsUnfusedCall(layer)
    ? [unfusedConvolutionCall(layer, tensors as tf.Tensor)]
    : toList(layer.call(tensors, kwargs as Parameters<Layer['call']>[1]));
  const outputMasks = toList(layer.computeMask(tensors, masks as tf.Tensor | tf.Tensor[]));
  const read = inputs.map((v) => v.tensor);
  return outputs.map((tensor, i) => ({ tensor: outputs.length === 1 ? tap(layer, tensor, read) : tensor, mask: outputMasks[i] ?? null }));
}

/** The nodes a container's outputs depend on, each after its inputs (depth-first from the outputs). */
function executionOrder(model: tfl.LayersModel): GraphNode[] {
  const order: GraphNode[] = [];
  const seen = new Set<GraphNode>();
  const visit = (tensor: tfl.SymbolicTensor): void => {
    const node = tensor.sourceLayer.inboundNodes[tensor.nodeIndex];
    if (seen.has(node)) return;
    seen.add(node);
    if (!isInputNode(node)) node.inputTensors.forEach(visit);
    order.push(node);
  };
  model.outputs.forEach(visit);
  return order;
}

function isInputNode(node: GraphNode): boolean {
  return node.inboundLayers.length === 0;
}

function toList(value: tf.Tensor | tf.Tensor[] | null | undefined): tf.Tensor[] {
  if (value == null) return [];
  return Array.isArray(value) ? value : [value];
}
