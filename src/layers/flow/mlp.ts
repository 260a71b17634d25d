/**
 * The fully connected network used for the scale and translation of an affine coupling, as in Esser,
 * Rombach & Ommer (2020), `BasicFullyConnectedNet`: Dense(dim→hidden), LeakyReLU, `depth` times
 * [Dense(hidden→hidden), LeakyReLU], Dense(hidden→dim), and tanh on the output for the scale network.
 * LeakyReLU has slope 0.01; weights and biases start uniform in ±1/√fan_in (PyTorch's Linear default).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { deriveSeed } from '../../core/seeded-random';
import type { LrpBuilder } from '../../attribution/lrp/layer-catalogue';
import type { AddWeight } from './weight-factory';

/** Slope of the LeakyReLU between the dense layers. */
export const LEAKY_RELU_SLOPE = 0.01;

/** A stack of dense layers with LeakyReLU in between and an optional tanh on the output. */
export class FullyConnectedNet {
  private readonly dense: { kernel: tfl.LayerVariable; bias: tfl.LayerVariable }[] = [];

  /**
   * @param dim input and output width
   * @param hidden width of the hidden layers
   * @param depth number of hidden→hidden layers
   * @param tanh whether to squash the output with tanh (the scale network)
   * @param prefix weight-name prefix, e.g. `unit0/coupling1/s`
   * @param seed base seed of the initialisers
   */
  constructor(dim: number, hidden: number, depth: number, readonly tanh: boolean, prefix: string, seed: number, addWeight: AddWeight) {
    const widths = [dim, hidden, ...Array.from({ length: depth }, () => hidden), dim];
    for (let i = 0; i + 1 < widths.length; i++) {
      const bound = 1 / Math.sqrt(widths[i]);
      const init = (k: number) => tfl.initializers.randomUniform({ minval: -bound, maxval: bound, seed: deriveSeed(seed, i, k) });
      this.dense.push({
        kernel: addWeight(`${prefix}/dense${i}/kernel`, [widths[i], widths[i + 1]], init(0), true),
        bias: addWeight(`${prefix}/dense${i}/bias`, [widths[i + 1]], init(1), true),
      });
    }
  }

  /** LRP: its dense layers as linear steps, LeakyReLU and tanh as activation steps. */
  addLrpSteps(builder: LrpBuilder, x: number, part: string): number {
    let h = x;
    this.dense.forEach(({ kernel, bias }, i) => {
      h = builder.add({
        inputs: [h],
        kind: 'dense',
        part: `${part}/dense${i}`,
        parameters: { weight: kernel.read(), bias: bias.read() },
        forward: ([v], p) => tf.add(tf.matMul(v as tf.Tensor2D, p!.weight as tf.Tensor2D), p!.bias!),
        scaleOutputs: (w, s) => tf.mul(w, s),
      });
      if (i + 1 < this.dense.length) {
        h = builder.add({ inputs: [h], kind: 'activation', part: `${part}/dense${i}/activation`, className: 'Activation', activation: 'leakyReLU', forward: ([v]) => tf.leakyRelu(v, LEAKY_RELU_SLOPE) });
      }
    });
    if (!this.tanh) return h;
    return builder.add({ inputs: [h], kind: 'activation', part: `${part}/tanh`, className: 'Activation', activation: 'tanh', forward: ([v]) => tf.tanh(v) });
  }

  /** Applies the network to `x` of shape [N, dim]. */
  apply(x: tf.Tensor2D): tf.Tensor2D {
    let h: tf.Tensor2D = x;
    this.dense.forEach(({ kernel, bias }, i) => {
      h = tf.add(tf.matMul(h, kernel.read() as tf.Tensor2D), bias.read());
      if (i + 1 < this.dense.length) h = tf.leakyRelu(h, LEAKY_RELU_SLOPE);
    });
    return this.tanh ? tf.tanh(h) : h;
  }
}
