import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { shiftedUpsample } from '../../src/attribution/perturbation/shifted-upsample';
import { expectClose, expectNoLeak, seededValues } from '../helpers';
import { upsampleAndCrop } from './reference';

describe('shiftedUpsample', () => {
  it.each([
    // source, upsampled, output
    [[4, 4], [45, 45], [40, 40]],
    [[3, 5], [12, 30], [7, 17]],
    [[9, 7], [27, 21], [9, 7]],
    [[6, 6], [18, 18], [1, 5]],
  ] as [number, number][][])('equals bilinear upsampling %j → %j then cropping %j at each offset', async (size, upsampled, output) => {
    const count = 5;
    const values = seededValues(count * size[0] * size[1], 3).map((v) => (v + 1) / 2);
    const offsets = Array.from({ length: count }, (_, i): [number, number] => [
      Math.floor(((i * 7) % 11) / 11 * (upsampled[0] - output[0] + 1)),
      Math.floor(((i * 5) % 9) / 9 * (upsampled[1] - output[1] + 1)),
    ]);
    offsets[count - 1] = [upsampled[0] - output[0], upsampled[1] - output[1]];
    const sources = tf.tensor4d(values, [count, size[0], size[1], 1]);
    const masks = await expectNoLeak(() => shiftedUpsample(sources, { upsampled, output, offsets } as never));
    expect(masks.shape).toEqual([count, output[0], output[1], 1]);
    const expected = new Float64Array(count * output[0] * output[1]);
    for (let i = 0; i < count; i++) {
      const source = values.subarray(i * size[0] * size[1], (i + 1) * size[0] * size[1]);
      expected.set(upsampleAndCrop(source, size as never, upsampled as never, output as never, offsets[i]), i * output[0] * output[1]);
    }
    await expectClose(masks, expected, 1e-5);
    sources.dispose();
    masks.dispose();
  });
});
