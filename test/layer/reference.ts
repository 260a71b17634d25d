/** A small MLP written out in float64 JS, read from a tfjs model's weights: the independent reference of the layer tests. */
import type * as tfl from '@tensorflow/tfjs-layers';

export type Activation = 'tanh' | 'softplus' | 'linear';

const apply: Record<Activation, (z: number) => number> = {
  tanh: Math.tanh,
  softplus: (z) => Math.log1p(Math.exp(z)),
  linear: (z) => z,
};
const derivative: Record<Activation, (z: number) => number> = {
  tanh: (z) => 1 - Math.tanh(z) ** 2,
  softplus: (z) => 1 / (1 + Math.exp(-z)),
  linear: () => 1,
};

/** One dense layer: kernel [in][out], bias [out]. */
export interface DenseWeights {
  kernel: number[][];
  bias: number[];
  activation: Activation;
}

/** The kernel and bias of a tfjs Dense layer as float64 arrays. */
export function denseWeights(layer: tfl.layers.Layer, activation: Activation): DenseWeights {
  const [kernel, bias] = layer.getWeights();
  const [inputs, outputs] = kernel.shape;
  const k = kernel.dataSync();
  return {
    kernel: Array.from({ length: inputs }, (_, i) => Array.from({ length: outputs }, (_, j) => k[i * outputs + j])),
    bias: Array.from(bias.dataSync()),
    activation,
  };
}

function preActivation(layer: DenseWeights, x: readonly number[]): number[] {
  return layer.bias.map((b, j) => b + x.reduce((s, v, i) => s + v * layer.kernel[i][j], 0));
}

/** The layers' outputs in turn. */
export function forward(layers: readonly DenseWeights[], x: readonly number[]): number[] {
  return layers.reduce((v, layer) => preActivation(layer, v).map(apply[layer.activation]), x as number[]);
}

/** ∂(output c)/∂x through `layers` (reverse mode, float64). */
export function gradient(layers: readonly DenseWeights[], x: readonly number[], c: number): number[] {
  const inputs: number[][] = [];
  const pre: number[][] = [];
  let v = x as number[];
  for (const layer of layers) {
    inputs.push(v);
    const z = preActivation(layer, v);
    pre.push(z);
    v = z.map(apply[layer.activation]);
  }
  let g: number[] = v.map((_, j) => (j === c ? 1 : 0));
  for (let l = layers.length - 1; l >= 0; l--) {
    const layer = layers[l];
    const dz = g.map((gj, j) => gj * derivative[layer.activation](pre[l][j]));
    g = inputs[l].map((_, i) => dz.reduce((s, d, j) => s + d * layer.kernel[i][j], 0));
  }
  return g;
}

/** Rows of a flat array. */
export function rows(values: ArrayLike<number>, width: number): number[][] {
  return Array.from({ length: values.length / width }, (_, r) => Array.from(values).slice(r * width, (r + 1) * width));
}

export const lerp = (a: readonly number[], b: readonly number[], t: number): number[] => a.map((v, i) => v + t * (b[i] - v));
