import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { layers } from '../../src/index';
import { expectClose, seededTensor } from '../helpers';

describe('gapFcHead', () => {
  it('pools globally, then applies dense layers of the given widths', async () => {
    const head = layers.gapFcHead({ units: [4, 3], activation: 'linear', name: 'head' });
    expect(head.map((l) => l.name)).toEqual(['head_gap', 'head_fc1', 'head_fc2']);
    const model = tfl.sequential({ layers: [tfl.layers.inputLayer({ inputShape: [3, 5, 2] }), ...head] });
    expect(model.outputs[0].shape).toEqual([null, 3]);
    const x = seededTensor([2, 3, 5, 2], 31);
    const y = model.predict(x) as tf.Tensor;
    // Plain-JS reference: channel means, then the two affine maps.
    const v = await x.data();
    const [k1, b1, k2, b2] = await Promise.all(model.getWeights().map((w) => w.data()));
    const expected: number[] = [];
    for (let n = 0; n < 2; n++) {
      const mean = [0, 1].map((c) => Array.from({ length: 15 }, (_, p) => v[(n * 15 + p) * 2 + c]).reduce((a, b) => a + b) / 15);
      const h = [0, 1, 2, 3].map((o) => b1[o] + mean[0] * k1[o] + mean[1] * k1[4 + o]);
      expected.push(...[0, 1, 2].map((o) => b2[o] + h.reduce((s, hv, i) => s + hv * k2[i * 3 + o], 0)));
    }
    await expectClose(y, expected, 1e-5);
    tf.dispose([x, y]);
    model.dispose();
  });

  it('rejects bad widths', () => {
    expect(() => layers.gapFcHead({ units: [4, 0] })).toThrow(/gapFcHead: units must be an array of positive integers, got \[4,0\]/);
  });
});
